package sqlite

import (
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/collector"
)

// backupPattern is the operations manual's backup name, candy_cadence_backup_%Y%m%d_%H%M%S.db.gz.
const backupPattern = "candy_cadence_backup_*.db.gz"

// backupStamp finds the manual's timestamp in a backup's name.
var backupStamp = regexp.MustCompile(`(\d{8}_\d{6})`)

// backupScanner finds the library's backups on each scrape: a directory listing, cheap for the
// few dozen files a 30-day retention keeps.
type backupScanner struct {
	globs   []string       // fixed globs; nil means derive them from the library's directory
	loc     *time.Location // zone of the times in backup names: the application's, local
	logger  *slog.Logger
	errLogs collector.FailureLog
}

type backupSummary struct {
	count      int
	newest     time.Time
	newestSize int64
}

func newBackupScanner(globs []string, logger *slog.Logger) *backupScanner {
	return &backupScanner{globs: globs, loc: time.Local, logger: logger}
}

// defaultBackupGlobs are the manual's backups beside the library and in its backups/ directory.
func defaultBackupGlobs(libraryPath string) []string {
	dir := filepath.Dir(libraryPath)
	return []string{
		filepath.Join(dir, backupPattern),
		filepath.Join(dir, "backups", backupPattern),
	}
}

func (b *backupScanner) scan(libraryPath string) backupSummary {
	globs := b.globs
	if len(globs) == 0 {
		globs = defaultBackupGlobs(libraryPath)
	}
	var sum backupSummary
	seen := map[string]bool{}
	var firstErr error
	for _, g := range globs {
		matches, err := filepath.Glob(g)
		if err != nil && firstErr == nil {
			firstErr = err
		}
		for _, m := range matches {
			if seen[m] {
				continue
			}
			seen[m] = true
			fi, err := os.Stat(m)
			if err != nil || !fi.Mode().IsRegular() {
				continue // vanished or a directory: not a backup
			}
			sum.count++
			t := backupTime(m, fi.ModTime(), b.loc)
			if sum.count == 1 || t.After(sum.newest) {
				sum.newest, sum.newestSize = t, fi.Size()
			}
		}
	}
	b.errLogs.Update(b.logger, slog.LevelWarn, "backup glob is malformed", "backup globs work again", firstErr, "globs", globs)
	return sum
}

// backupTime is the time in the backup's name (local time, as the manual's strftime writes
// it), or else its modification time.
func backupTime(path string, modTime time.Time, loc *time.Location) time.Time {
	name := filepath.Base(path)
	for _, m := range slices.Backward(backupStamp.FindAllString(name, -1)) {
		if t, err := time.ParseInLocation("20060102_150405", m, loc); err == nil {
			return t
		}
	}
	return modTime
}
