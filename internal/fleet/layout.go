package fleet

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/candy-cadence/candy_cadence_exporter/internal/appsim"
)

// Layout is where one workstation keeps the application's files: the newer builds' layout
// (<base>/cache/data/3dmm.db, <base>/cache/cache.db, <base>/cache/logs) under the
// workstation's directory, with backups in <base>/backups.
type Layout struct {
	Dir     string // the workstation's directory
	Base    string // the application's data directory (DigitalWorkshop)
	Library string
	Cache   string
	LogDir  string
	Backups string
	AppBin  string // the application's executable, a link named as the application is named
}

// NewLayout returns the layout of the workstation in dir.
func NewLayout(dir string) Layout {
	base := filepath.Join(dir, "DigitalWorkshop")
	return Layout{
		Dir:     dir,
		Base:    base,
		Library: filepath.Join(base, "cache", "data", "3dmm.db"),
		Cache:   filepath.Join(base, "cache", "cache.db"),
		LogDir:  filepath.Join(base, "cache", "logs"),
		Backups: filepath.Join(base, "backups"),
		AppBin:  filepath.Join(dir, "bin", "candy_cadence"),
	}
}

// create makes the application's files as an installed application has them: a library of
// models, a model cache, a recent backup, the log directory, and the application's executable
// (a link to the simulator, which runs as the application when started under that name).
func (l Layout) create(models int, seed uint64, sim string) error {
	if err := appsim.CreateLibrary(l.Library, appsim.LibraryOptions{Models: models, Searches: 20, Newest: time.Now().Add(-time.Hour), Seed: seed}); err != nil {
		return err
	}
	if err := appsim.CreateCache(l.Cache, appsim.CacheOptions{Entries: models / 4, Seed: seed}); err != nil {
		return err
	}
	for _, d := range []string{l.LogDir, l.Backups, filepath.Dir(l.AppBin)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := l.writeBackup(time.Now().Add(-6 * time.Hour)); err != nil {
		return err
	}
	if err := os.Symlink(sim, l.AppBin); err != nil {
		return fmt.Errorf("link the application's executable: %w", err)
	}
	return nil
}

// writeBackup writes a gzip copy of the library named as the maintenance scripts name theirs.
func (l Layout) writeBackup(at time.Time) error {
	src, err := os.ReadFile(l.Library)
	if err != nil {
		return err
	}
	name := filepath.Join(l.Backups, "candy_cadence_backup_"+at.Format("20060102_150405")+".db.gz")
	return writeGzip(name, src)
}
