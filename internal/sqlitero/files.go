package sqlitero

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// FileID identifies a file independently of its name: device and inode on Unix, volume serial
// number and file index on Windows. A file replaced under the same name gets a new FileID.
type FileID struct {
	Volume uint64
	Index  uint64
}

// FileState is one file as stat saw it. A missing file has Exists false and zero fields.
type FileState struct {
	Exists  bool
	ID      FileID
	Size    int64
	ModTime time.Time
}

// Files is the state of a database file and the two files SQLite keeps beside it in WAL mode.
type Files struct {
	DB, WAL, SHM FileState
}

var (
	errNoFileID  = errors.New("file system gives no file identity")
	errShortFile = errors.New("file is shorter than an SQLite header")
)

// StatFiles looks at path, path-wal and path-shm without opening them (except on Windows,
// where the file index needs a handle that shares everything). A missing file is not an error.
func StatFiles(path string) (Files, error) {
	var f Files
	var err error
	if f.DB, err = statFile(path); err != nil {
		return f, err
	}
	if f.WAL, err = statFile(path + "-wal"); err != nil {
		return f, err
	}
	f.SHM, err = statFile(path + "-shm")
	return f, err
}

func statFile(path string) (FileState, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return FileState{}, nil
	}
	if err != nil {
		return FileState{}, err
	}
	if !fi.Mode().IsRegular() {
		return FileState{}, fmt.Errorf("%s is not a regular file", path)
	}
	id, err := fileIDOf(path, fi)
	if errors.Is(err, fs.ErrNotExist) {
		return FileState{}, nil // removed between the two looks
	}
	if err != nil {
		return FileState{}, err
	}
	return FileState{Exists: true, ID: id, Size: fi.Size(), ModTime: fi.ModTime()}, nil
}

// LastModified is the newest modification time of the database and its WAL: in WAL mode a
// commit only writes the WAL, and the database file changes at checkpoints.
func (f Files) LastModified() time.Time {
	if f.WAL.Exists && f.WAL.ModTime.After(f.DB.ModTime) {
		return f.WAL.ModTime
	}
	return f.DB.ModTime
}

// JournalMode is what a database file's header says about its journal.
type JournalMode string

const (
	// JournalWAL: the database is in WAL mode (file format versions 2).
	JournalWAL JournalMode = "wal"
	// JournalRollback: one of SQLite's rollback-journal modes (delete, truncate, persist, ...);
	// the file does not say which, since that is a property of each connection.
	JournalRollback JournalMode = "rollback"
)

// Header is what the first 100 bytes of an SQLite database say.
type Header struct {
	PageSize int
	Journal  JournalMode
	// ChangeCounter (bytes 24-27) grows with every commit of a rollback-journal database, and
	// SchemaCookie (bytes 40-43) with every schema change once it reaches the file: together
	// with the files' identities, sizes and times they tell an unchanged database.
	ChangeCounter uint32
	SchemaCookie  uint32
}

// ErrNotADatabase means the file does not start with an SQLite header.
var ErrNotADatabase = errors.New("file is not an SQLite database")

const headerMagic = "SQLite format 3\x00"

// ParseHeader decodes the parts of the 100-byte database header that decide how to open it.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < 100 || string(b[:16]) != headerMagic {
		return Header{}, ErrNotADatabase
	}
	pageSize := int(b[16])<<8 | int(b[17])
	if pageSize == 1 {
		pageSize = 65536
	}
	if pageSize < 512 || pageSize&(pageSize-1) != 0 {
		return Header{}, fmt.Errorf("%w: page size %d", ErrNotADatabase, pageSize)
	}
	h := Header{
		PageSize:      pageSize,
		Journal:       JournalRollback,
		ChangeCounter: binary.BigEndian.Uint32(b[24:28]),
		SchemaCookie:  binary.BigEndian.Uint32(b[40:44]),
	}
	// Bytes 18 and 19 are the write and read format versions: 1 legacy, 2 WAL.
	switch {
	case b[18] == 2 && b[19] == 2:
		h.Journal = JournalWAL
	case b[18] > 2 || b[19] > 2:
		return Header{}, fmt.Errorf("%w: unknown file format versions %d/%d", ErrNotADatabase, b[18], b[19])
	}
	return h, nil
}

// ReadHeader reads and decodes the header of the database at path (an absolute path). It
// reads through SQLite's VFS so that it cannot release locks other connections hold.
func ReadHeader(path string) (Header, error) {
	buf := make([]byte, 100)
	err := readHeaderBytes(path, buf)
	if errors.Is(err, errShortFile) {
		return Header{}, fmt.Errorf("%w: %v", ErrNotADatabase, err)
	}
	if err != nil {
		return Header{}, err
	}
	return ParseHeader(buf)
}
