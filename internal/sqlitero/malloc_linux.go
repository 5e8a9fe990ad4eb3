//go:build cgo

package sqlitero

/*
#include <malloc.h>

// oneArena keeps glibc's allocator to a single arena. SQLite is the exporter's only C code,
// and Go runs it on whichever OS thread is free: glibc gives each such thread an arena of its
// own and keeps what is freed in it (2.7 MB across five arenas, measured). It runs as a C
// constructor, before the Go runtime starts threads, because an arena made before the limit
// is set stays.
__attribute__((constructor)) static void oneArena(void) {
#ifdef M_ARENA_MAX
	mallopt(M_ARENA_MAX, 1);
#endif
}
*/
import "C"
