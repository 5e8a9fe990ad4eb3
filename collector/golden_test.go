package collector

import "flag"

// update rewrites the golden files in testdata/ instead of comparing against them:
// go test ./collector -run <Test> -update
var update = flag.Bool("update", false, "rewrite golden files in testdata/")
