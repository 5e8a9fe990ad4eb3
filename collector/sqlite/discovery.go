package sqlite

import "github.com/candy-cadence/candy_cadence_exporter/internal/appdirs"

// Discovery says, as of now, where the library, the cache database and the backups were
// found, or where they were looked for. A database not found is looked for again on every
// scrape, so nothing stands in for it: its fallback is empty.
func (c *Collector) Discovery() []appdirs.Discovery {
	lib := appdirs.DiscoverFile(dbLibrary, c.library.candidates, c.cfg.LibraryPath != "")
	cache := appdirs.DiscoverFile(dbCache, c.cache.candidates, c.cfg.CachePath != "")
	globs := c.cfg.BackupGlobs
	if len(globs) == 0 {
		libPath := lib.Path
		if !lib.Found && len(lib.LookedIn) > 0 {
			libPath = lib.LookedIn[0]
		}
		globs = defaultBackupGlobs(libPath)
	}
	backups := appdirs.DiscoverGlobs("backups", globs, len(c.cfg.BackupGlobs) > 0)
	return []appdirs.Discovery{lib, cache, backups}
}
