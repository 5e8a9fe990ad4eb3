package dashboards

import (
	"fmt"
	"os"
	"path/filepath"

	"go.yaml.in/yaml/v2"
)

// ruleFile is the part of a Prometheus rule file the dashboards read.
type ruleFile struct {
	Groups []struct {
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func readRuleFiles(rulesDir string) ([]ruleFile, error) {
	paths, err := filepath.Glob(filepath.Join(rulesDir, "*.yml"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no rule files in %s", rulesDir)
	}
	var files []ruleFile
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var rf ruleFile
		if err := yaml.Unmarshal(data, &rf); err != nil {
			return nil, fmt.Errorf("read rule file %s: %w", p, err)
		}
		files = append(files, rf)
	}
	return files, nil
}

// ReadRunbooks returns the runbook_url annotation of every alert in the rule files of
// rulesDir, by alert name. Alerts that share a name (one per severity) share a runbook section.
func ReadRunbooks(rulesDir string) (map[string]string, error) {
	files, err := readRuleFiles(rulesDir)
	if err != nil {
		return nil, err
	}
	runbooks := map[string]string{}
	for _, rf := range files {
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Alert == "" || r.Annotations["runbook_url"] == "" {
					continue
				}
				if old, ok := runbooks[r.Alert]; ok && old != r.Annotations["runbook_url"] {
					return nil, fmt.Errorf("alert %s has two runbook addresses: %s and %s", r.Alert, old, r.Annotations["runbook_url"])
				}
				runbooks[r.Alert] = r.Annotations["runbook_url"]
			}
		}
	}
	return runbooks, nil
}

// RecordedNames returns the names the recording rules of rulesDir record.
func RecordedNames(rulesDir string) ([]string, error) {
	files, err := readRuleFiles(rulesDir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, rf := range files {
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				if r.Record != "" {
					names = append(names, r.Record)
				}
			}
		}
	}
	return names, nil
}
