//go:build cgo

package sqlitero

/*
#include <stdlib.h>
#include <string.h>
#include <stddef.h>

// The few SQLite declarations this file needs, as in sqlite3.h. go-sqlite3 compiles SQLite
// into the binary but does not export its header to other packages; these layouts are part of
// SQLite's stable ABI.
typedef struct sqlite3_vfs sqlite3_vfs;
typedef struct sqlite3_file sqlite3_file;
typedef struct ro_io_methods ro_io_methods;
typedef void (*ro_syscall_ptr)(void);
struct sqlite3_file { const ro_io_methods *pMethods; };
struct ro_io_methods {
  int iVersion;
  int (*xClose)(sqlite3_file*);
  int (*xRead)(sqlite3_file*, void*, int iAmt, long long iOfst);
};
struct sqlite3_vfs {
  int iVersion;
  int szOsFile;
  int mxPathname;
  sqlite3_vfs *pNext;
  const char *zName;
  void *pAppData;
  int (*xOpen)(sqlite3_vfs*, const char *zName, sqlite3_file*, int flags, int *pOutFlags);
  int (*xDelete)(sqlite3_vfs*, const char *zName, int syncDir);
  int (*xAccess)(sqlite3_vfs*, const char *zName, int flags, int *pResOut);
  int (*xFullPathname)(sqlite3_vfs*, const char *zName, int nOut, char *zOut);
  void *(*xDlOpen)(sqlite3_vfs*, const char *zFilename);
  void (*xDlError)(sqlite3_vfs*, int nByte, char *zErrMsg);
  void (*(*xDlSym)(sqlite3_vfs*,void*, const char *zSymbol))(void);
  void (*xDlClose)(sqlite3_vfs*, void*);
  int (*xRandomness)(sqlite3_vfs*, int nByte, char *zOut);
  int (*xSleep)(sqlite3_vfs*, int microseconds);
  int (*xCurrentTime)(sqlite3_vfs*, double*);
  int (*xGetLastError)(sqlite3_vfs*, int, char *);
  int (*xCurrentTimeInt64)(sqlite3_vfs*, long long*);
  int (*xSetSystemCall)(sqlite3_vfs*, const char *zName, ro_syscall_ptr);
  ro_syscall_ptr (*xGetSystemCall)(sqlite3_vfs*, const char *zName);
  const char *(*xNextSystemCall)(sqlite3_vfs*, const char *zName);
};
extern sqlite3_vfs *sqlite3_vfs_find(const char *zVfsName);
extern int sqlite3_vfs_register(sqlite3_vfs*, int makeDflt);
extern const char *sqlite3_create_filename(const char*, const char*, const char*, int, const char**);
extern void sqlite3_free_filename(const char*);

#define RO_OPEN_READONLY      0x00000001
#define RO_OPEN_READWRITE     0x00000002
#define RO_OPEN_CREATE        0x00000004
#define RO_OPEN_DELETEONCLOSE 0x00000008
#define RO_OPEN_EXCLUSIVE     0x00000010
// The application's own files: main database, rollback journal, super-journal, WAL.
#define RO_APP_FILES (0x00000100|0x00000800|0x00004000|0x00080000)
#define RO_MAIN_DB 0x00000100

static sqlite3_vfs *roBase;
static sqlite3_vfs roVfs;

// roOpen opens the application's files read-only and never creates one. SQLite opens a WAL
// file with CREATE even on a read-only connection, which would leave an empty -wal beside a
// database whose application has just closed it. Temporary files of our own keep their flags.
static int roOpen(sqlite3_vfs *v, const char *zName, sqlite3_file *f, int flags, int *pOut) {
  (void)v;
  if( zName && (flags & RO_APP_FILES) ){
    flags &= ~(RO_OPEN_READWRITE|RO_OPEN_CREATE|RO_OPEN_DELETEONCLOSE|RO_OPEN_EXCLUSIVE);
    flags |= RO_OPEN_READONLY;
  }
  return roBase->xOpen(roBase, zName, f, flags, pOut);
}

static int roRegister(const char *name) {
  size_t n = sizeof roVfs;
  if( roBase ) return 0;
  roBase = sqlite3_vfs_find(0);
  if( roBase==0 ) return 1;
  if( roBase->iVersion<2 ){
    n = offsetof(sqlite3_vfs, xCurrentTimeInt64);
  }else if( roBase->iVersion<3 ){
    n = offsetof(sqlite3_vfs, xSetSystemCall);
  }
  memset(&roVfs, 0, sizeof roVfs);
  memcpy(&roVfs, roBase, n);
  if( roVfs.iVersion>3 ) roVfs.iVersion = 3;
  roVfs.pNext = 0;
  roVfs.zName = name;
  roVfs.xOpen = roOpen;
  return sqlite3_vfs_register(&roVfs, 0);
}

// roReadHeader reads the first n bytes of a database file through SQLite's own VFS. Going
// through the VFS matters on Unix: closing any descriptor of a file drops every POSIX lock this
// process holds on it, and only the VFS knows to defer that close while a connection holds one.
static int roReadHeader(const char *path, unsigned char *buf, int n) {
  const char *name;
  sqlite3_file *f;
  int outFlags = 0, rc, rcClose;
  if( roBase==0 ) return 1;
  name = sqlite3_create_filename(path, "", "", 0, 0);
  if( name==0 ) return 7;
  f = (sqlite3_file*)calloc(1, (size_t)roBase->szOsFile);
  if( f==0 ){ sqlite3_free_filename(name); return 7; }
  rc = roBase->xOpen(roBase, name, f, RO_OPEN_READONLY|RO_MAIN_DB, &outFlags);
  if( rc==0 ){
    rc = f->pMethods->xRead(f, buf, n, 0);
    rcClose = f->pMethods->xClose(f);
    if( rc==0 ) rc = rcClose;
  }else if( f->pMethods ){
    f->pMethods->xClose(f);
  }
  free(f);
  sqlite3_free_filename(name);
  return rc;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/mattn/go-sqlite3"
)

// vfsName names the VFS that opens the application's files read-only and never creates one.
const vfsName = "candy-cadence-ro"

var registerOnce = sync.OnceValue(func() error {
	name := C.CString(vfsName) // kept for the life of the process: SQLite holds the pointer
	if rc := C.roRegister(name); rc != 0 {
		return fmt.Errorf("register SQLite VFS %s: error code %d", vfsName, int(rc))
	}
	return nil
})

// sqliteIOErrShortRead is SQLITE_IOERR_SHORT_READ: the file is shorter than asked for.
const sqliteIOErrShortRead = 10 | 2<<8

// sqliteCantOpen is SQLITE_CANTOPEN.
const sqliteCantOpen = 14

// readHeaderBytes fills buf from the start of the file at path (an absolute path).
func readHeaderBytes(path string, buf []byte) error {
	if err := registerOnce(); err != nil {
		return err
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	cbuf := (*C.uchar)(C.malloc(C.size_t(len(buf))))
	defer C.free(unsafe.Pointer(cbuf))
	rc := int(C.roReadHeader(cpath, cbuf, C.int(len(buf))))
	copy(buf, unsafe.Slice((*byte)(unsafe.Pointer(cbuf)), len(buf)))
	switch rc {
	case 0:
		return nil
	case sqliteIOErrShortRead:
		return errShortFile
	case sqliteCantOpen:
		if err := accessError(path); err != nil {
			return err
		}
		return fmt.Errorf("read database header: cannot open the file")
	default:
		return fmt.Errorf("read database header: SQLite error code %d", rc)
	}
}

// IsBusy reports whether err is SQLite's "database is locked" (SQLITE_BUSY or SQLITE_LOCKED).
func IsBusy(err error) bool {
	var e sqlite3.Error
	return errors.As(err, &e) && (e.Code == sqlite3.ErrBusy || e.Code == sqlite3.ErrLocked)
}

// IsCorrupt reports whether err says the database is damaged (SQLITE_CORRUPT or SQLITE_NOTADB).
func IsCorrupt(err error) bool {
	if errors.Is(err, ErrNotADatabase) {
		return true
	}
	var e sqlite3.Error
	return errors.As(err, &e) && (e.Code == sqlite3.ErrCorrupt || e.Code == sqlite3.ErrNotADB)
}

// IsTransient reports whether err is a condition of a read-only WAL reader that passes by
// itself: the writer was rewriting the WAL index header (SQLITE_READONLY_RECOVERY), or no
// reader mark was usable for a moment (SQLITE_READONLY_CANTINIT). A read-write reader would
// have fixed either by writing the index; a read-only one tries again.
func IsTransient(err error) bool {
	var e sqlite3.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.ExtendedCode {
	case sqlite3.ErrReadonlyRecovery, sqlite3.ErrReadonly.Extend(5), sqlite3.ErrBusyRecovery:
		return true
	}
	return false
}

// ErrorCode is SQLite's extended result code of err, or 0.
func ErrorCode(err error) int {
	var e sqlite3.Error
	if errors.As(err, &e) {
		return int(e.ExtendedCode)
	}
	return 0
}
