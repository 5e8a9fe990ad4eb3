package dashboards

import (
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v2"
)

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// TestProvisioning checks the Grafana provisioning files against what the dashboards need: a
// Prometheus data source whose scrape interval is the shipped Prometheus's (Grafana builds
// $__rate_interval on it), and a file provider with a path and a folder.
func TestProvisioning(t *testing.T) {
	provisioning := filepath.Join(repoRoot, "deploy", "grafana", "provisioning")

	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, UID, Type, Access, URL string
			IsDefault                    bool `yaml:"isDefault"`
			Editable                     bool
			JSONData                     map[string]string `yaml:"jsonData"`
		} `yaml:"datasources"`
	}
	readYAML(t, filepath.Join(provisioning, "datasources", "candy_cadence.yml"), &ds)
	var prom struct {
		Global struct {
			ScrapeInterval string `yaml:"scrape_interval"`
		} `yaml:"global"`
	}
	data, err := os.ReadFile(filepath.Join(repoRoot, "deploy", "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &prom); err != nil {
		t.Fatal(err)
	}
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 {
		t.Fatalf("want apiVersion 1 and one data source, got %+v", ds)
	}
	d := ds.Datasources[0]
	if d.Type != "prometheus" || d.URL == "" || d.UID == "" {
		t.Errorf("data source %+v: want type prometheus with a url and a uid", d)
	}
	if d.JSONData["timeInterval"] != prom.Global.ScrapeInterval {
		t.Errorf("data source timeInterval %q differs from the scrape interval %q of deploy/prometheus/prometheus.yml",
			d.JSONData["timeInterval"], prom.Global.ScrapeInterval)
	}

	var providers struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Name, Type, Folder    string
			OrgID                 int    `yaml:"orgId"`
			FolderUID             string `yaml:"folderUid"`
			AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
			DisableDeletion       bool   `yaml:"disableDeletion"`
			UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
			Options               struct {
				Path                      string
				FoldersFromFilesStructure bool `yaml:"foldersFromFilesStructure"`
			}
		} `yaml:"providers"`
	}
	readYAML(t, filepath.Join(provisioning, "dashboards", "candy_cadence.yml"), &providers)
	if providers.APIVersion != 1 || len(providers.Providers) != 1 {
		t.Fatalf("want apiVersion 1 and one provider, got %+v", providers)
	}
	p := providers.Providers[0]
	if p.Type != "file" || p.Options.Path == "" || p.Folder == "" || p.AllowUIUpdates {
		t.Errorf("provider %+v: want a file provider with a path and a folder that refuses UI edits of generated files", p)
	}
}
