package logs

import "regexp"

// exceptionClassShape is what an unlisted error type must look like to get a series of its
// own: a CamelCase class name ending as Python's exception classes do (PEP 8 names them
// ...Error; ...Exception and ...Warning are common too). Log text can put any identifier
// where a type is expected (a user's name, a host, a path component); those count as other.
var exceptionClassShape = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{0,63}(Error|Exception|Warning)$`)

// looksLikeExceptionClass reports whether name may become a type label value.
func looksLikeExceptionClass(name string) bool { return exceptionClassShape.MatchString(name) }
