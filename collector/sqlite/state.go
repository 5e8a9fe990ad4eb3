package sqlite

import (
	"errors"
	"io/fs"

	"github.com/candy-cadence/candy_cadence_exporter/internal/sqlitero"
)

// dbState is why a database did or did not answer a scrape: the state label of db_state.
// Rules tell a missing library (a workstation where the application never ran, an unplugged
// drive, a wrong path) from one that is there and broken, so each cause has its own value.
type dbState string

const (
	stateOK           dbState = "ok"
	stateNotFound     dbState = "not_found"
	stateNotADatabase dbState = "not_a_database"
	stateLocked       dbState = "locked"
	stateCorrupt      dbState = "corrupt"
	stateUnreadable   dbState = "unreadable"
)

// dbStates lists every state in the order they are exported: db_state is a state set, one
// series per state, exactly one of them 1.
var dbStates = []dbState{stateOK, stateNotFound, stateNotADatabase, stateLocked, stateCorrupt, stateUnreadable}

// SQLite's primary result codes that decide a state.
const (
	sqliteBusy     = 5
	sqliteLocked   = 6
	sqliteCorrupt  = 11
	sqliteCantOpen = 14
	sqliteNotADB   = 26
)

// classify maps the error of a scrape's read onto a state. Anything that is not one of the
// named causes (permissions, a directory where the file should be, an I/O error, a WAL whose
// index is gone) is unreadable.
func classify(err error) dbState {
	if err == nil {
		return stateOK
	}
	switch {
	case errors.Is(err, sqlitero.ErrNotExist), errors.Is(err, fs.ErrNotExist):
		return stateNotFound
	case errors.Is(err, sqlitero.ErrNotADatabase):
		return stateNotADatabase
	}
	switch sqlitero.ErrorCode(err) & 0xff {
	case sqliteNotADB:
		return stateNotADatabase
	case sqliteCorrupt:
		return stateCorrupt
	case sqliteBusy, sqliteLocked:
		return stateLocked
	}
	return stateUnreadable
}
