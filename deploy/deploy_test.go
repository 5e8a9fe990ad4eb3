// Package deploy_test checks the desktop autostart files that cannot be run here: the
// Windows scheduled task and its scripts, the systemd user unit and the XDG autostart entry.
package deploy_test

import (
	"bufio"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

const noWindowExe = "candy_cadence_exporter_nowindow.exe"

// windowsTask is the part of the Task Scheduler schema the checks read.
type windowsTask struct {
	XMLName  xml.Name `xml:"http://schemas.microsoft.com/windows/2004/02/mit/task Task"`
	Version  string   `xml:"version,attr"`
	Triggers struct {
		Logon []struct {
			Enabled string
			UserID  string `xml:"UserId"`
		} `xml:"LogonTrigger"`
		Other []struct{ XMLName xml.Name } `xml:",any"`
	}
	Principals struct {
		Principal []struct {
			ID        string `xml:"id,attr"`
			UserID    string `xml:"UserId"`
			LogonType string
			RunLevel  string
		}
	}
	Settings struct {
		MultipleInstancesPolicy    string
		DisallowStartIfOnBatteries string
		StopIfGoingOnBatteries     string
		Hidden                     string
		ExecutionTimeLimit         string
		RestartOnFailure           struct {
			Interval string
			Count    string
		}
		Other []struct{ XMLName xml.Name } `xml:",any"`
	}
	Actions struct {
		Context string `xml:"Context,attr"`
		Exec    []struct {
			Command          string
			Arguments        string
			WorkingDirectory string
		}
	}
}

// settingsElements are the children of Settings that the task schema (version 1.2) allows;
// anything else is a typo that Task Scheduler would reject at registration.
var settingsElements = map[string]bool{
	"AllowStartOnDemand": true, "RestartOnFailure": true, "MultipleInstancesPolicy": true,
	"DisallowStartIfOnBatteries": true, "StopIfGoingOnBatteries": true, "AllowHardTerminate": true,
	"StartWhenAvailable": true, "NetworkProfileName": true, "RunOnlyIfNetworkAvailable": true,
	"WakeToRun": true, "Enabled": true, "Hidden": true, "DeleteExpiredTaskAfter": true,
	"IdleSettings": true, "NetworkSettings": true, "ExecutionTimeLimit": true, "Priority": true,
	"RunOnlyIfIdle": true,
}

func readTask(t *testing.T) (windowsTask, string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("windows", "candy_cadence_exporter.xml"))
	if err != nil {
		t.Fatal(err)
	}
	var task windowsTask
	dec := xml.NewDecoder(strings.NewReader(string(raw)))
	dec.Strict = true
	if err := dec.Decode(&task); err != nil {
		t.Fatalf("task XML is not well-formed: %v", err)
	}
	return task, string(raw)
}

func TestWindowsTaskXML(t *testing.T) {
	task, _ := readTask(t)
	if task.Version != "1.2" {
		t.Errorf("task version %q, want 1.2 (Windows 7 and later)", task.Version)
	}
	if len(task.Triggers.Other) != 0 || len(task.Triggers.Logon) != 1 {
		t.Fatalf("%d LogonTrigger and %d other triggers: want exactly one LogonTrigger", len(task.Triggers.Logon), len(task.Triggers.Other))
	}
	if lt := task.Triggers.Logon[0]; lt.UserID == "" || lt.Enabled != "true" {
		t.Errorf("LogonTrigger %+v: want it enabled and bound to one user (UserId), not to every user's logon", lt)
	}
	if len(task.Principals.Principal) != 1 {
		t.Fatalf("want one principal, got %d", len(task.Principals.Principal))
	}
	p := task.Principals.Principal[0]
	if p.UserID == "" || p.LogonType != "InteractiveToken" || p.RunLevel != "LeastPrivilege" {
		t.Errorf("principal %+v: want the user's own interactive token, not elevated", p)
	}
	if task.Actions.Context != p.ID {
		t.Errorf("actions run as %q, the principal is %q", task.Actions.Context, p.ID)
	}

	s := task.Settings
	for _, e := range s.Other {
		if !settingsElements[e.XMLName.Local] {
			t.Errorf("Settings has <%s>, which the task schema does not know", e.XMLName.Local)
		}
	}
	if s.ExecutionTimeLimit != "PT0S" {
		t.Errorf("ExecutionTimeLimit %q: want PT0S (none); the default stops the task after 72 hours", s.ExecutionTimeLimit)
	}
	if s.Hidden != "true" {
		t.Errorf("Hidden %q, want true", s.Hidden)
	}
	if s.MultipleInstancesPolicy != "IgnoreNew" {
		t.Errorf("MultipleInstancesPolicy %q: want IgnoreNew, a second exporter cannot listen on the port", s.MultipleInstancesPolicy)
	}
	if s.DisallowStartIfOnBatteries != "false" || s.StopIfGoingOnBatteries != "false" {
		t.Errorf("battery settings %q/%q: a laptop on battery must be monitored too", s.DisallowStartIfOnBatteries, s.StopIfGoingOnBatteries)
	}
	interval, err := isoDuration(s.RestartOnFailure.Interval)
	if err != nil || interval < time.Minute || interval > 31*24*time.Hour {
		t.Errorf("RestartOnFailure Interval %q (%v): Task Scheduler accepts 1 minute to 31 days", s.RestartOnFailure.Interval, err)
	}
	if n, err := strconv.Atoi(s.RestartOnFailure.Count); err != nil || n < 1 || n > 999 {
		t.Errorf("RestartOnFailure Count %q: want 1 to 999", s.RestartOnFailure.Count)
	}

	if len(task.Actions.Exec) != 1 {
		t.Fatalf("want one Exec action, got %d", len(task.Actions.Exec))
	}
	exec := task.Actions.Exec[0]
	if !strings.HasSuffix(exec.Command, `\`+noWindowExe) {
		t.Errorf("Command %q: the task must start the no-window build %s", exec.Command, noWindowExe)
	}
	if !strings.Contains(exec.Arguments, "--log.file=") {
		t.Errorf("Arguments %q: the no-window build has no stderr, its log needs --log.file", exec.Arguments)
	}
	if exec.WorkingDirectory == "" {
		t.Error("no WorkingDirectory: the exporter resolves the application's relative paths against it")
	}
}

// isoDuration parses the subset of ISO 8601 durations Task Scheduler writes (PnDTnHnMnS).
func isoDuration(s string) (time.Duration, error) {
	m := regexp.MustCompile(`^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$`).FindStringSubmatch(s)
	if m == nil || s == "P" || s == "PT" {
		return 0, strconv.ErrSyntax
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if m[i+1] != "" {
			n, _ := strconv.Atoi(m[i+1])
			d += time.Duration(n) * unit
		}
	}
	return d, nil
}

// TestInstallScriptFillsTheTask checks that every value install.ps1 sets exists in the XML
// (PowerShell would otherwise fail at install time on the user's desktop) and that the
// scripts use the file names the release ships.
func TestInstallScriptFillsTheTask(t *testing.T) {
	install := readFile(t, filepath.Join("windows", "install.ps1"))
	uninstall := readFile(t, filepath.Join("windows", "uninstall.ps1"))
	_, raw := readTask(t)
	for _, path := range []string{"Triggers.LogonTrigger.UserId", "Principals.Principal.UserId",
		"Actions.Exec.Command", "Actions.Exec.Arguments", "Actions.Exec.WorkingDirectory"} {
		if !strings.Contains(install, "$task.Task."+path+" = ") {
			t.Errorf("install.ps1 does not set %s", path)
		}
		leaf := path[strings.LastIndex(path, ".")+1:]
		if !strings.Contains(raw, "<"+leaf+">") {
			t.Errorf("the task XML has no <%s> for install.ps1 to set", leaf)
		}
	}
	for _, want := range []string{`"$name.xml"`, `"${name}_nowindow.exe"`, `"$name.exe"`, "Register-ScheduledTask", "New-NetFirewallRule", "-RemoteAddress $PrometheusAddress"} {
		if !strings.Contains(install, want) {
			t.Errorf("install.ps1 lacks %s", want)
		}
	}
	for _, want := range []string{"Unregister-ScheduledTask", "Remove-NetFirewallRule"} {
		if !strings.Contains(uninstall, want) {
			t.Errorf("uninstall.ps1 lacks %s", want)
		}
	}
	for _, script := range []string{install, uninstall} {
		if !strings.Contains(script, "$name = 'candy_cadence_exporter'") {
			t.Error("a script does not name the task candy_cadence_exporter")
		}
	}
}

// Windows PowerShell 5.1 reads a script without a byte order mark in the ANSI code page:
// anything beyond ASCII would be read differently on differently configured desktops.
func TestWindowsFilesArePlainASCII(t *testing.T) {
	for _, name := range []string{"install.ps1", "uninstall.ps1", "candy_cadence_exporter.xml"} {
		for i, r := range readFile(t, filepath.Join("windows", name)) {
			if r > 0x7e || (r < 0x20 && r != '\n' && r != '\r' && r != '\t') {
				t.Errorf("%s: byte %d is %q, not plain ASCII", name, i, r)
				break
			}
		}
	}
}

// namespaceOptions need a mount or user namespace; in a user unit they fail where
// unprivileged user namespaces are restricted.
var namespaceOptions = []string{"ProtectSystem", "ProtectHome", "PrivateTmp", "PrivateDevices",
	"PrivateUsers", "PrivateNetwork", "ProtectKernelTunables", "ProtectKernelModules",
	"ProtectKernelLogs", "ProtectControlGroups", "ProtectClock", "ProtectHostname", "ProtectProc",
	"ReadOnlyPaths", "ReadWritePaths", "InaccessiblePaths", "TemporaryFileSystem", "BindPaths"}

func TestSystemdUserUnit(t *testing.T) {
	unit := parseINI(t, filepath.Join("linux", "candy_cadence_exporter.service"))
	for key, want := range map[string]string{
		"Service.ExecStart":               "%h/.local/bin/candy_cadence_exporter",
		"Service.Restart":                 "on-failure",
		"Service.NoNewPrivileges":         "yes",
		"Service.MemoryDenyWriteExecute":  "yes",
		"Service.RestrictNamespaces":      "yes",
		"Service.SystemCallArchitectures": "native",
		"Install.WantedBy":                "default.target",
	} {
		if got := unit[key]; len(got) == 0 || got[0] != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	for _, opt := range namespaceOptions {
		if _, ok := unit["Service."+opt]; ok {
			t.Errorf("%s needs a user namespace in a user unit; the unit fails to start where those are restricted", opt)
		}
	}

	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not installed: the unit's syntax is not verified")
	}
	// verify --user needs a runtime directory and checks that ExecStart exists: give it a
	// home with a stand-in binary.
	home, runtime := t.TempDir(), t.TempDir()
	bin := filepath.Join(home, ".local", "bin", "candy_cadence_exporter")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	unitPath, err := filepath.Abs(filepath.Join("linux", "candy_cadence_exporter.service"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", "--user", unitPath)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_RUNTIME_DIR="+runtime)
	out, err := cmd.CombinedOutput()
	if strings.Contains(string(out), "Failed to initialize manager") {
		t.Skipf("systemd-analyze cannot start a user manager here: %s", out)
	}
	// Unknown keys and bad values are only warnings to verify: any output is a failure.
	if err != nil || len(out) != 0 {
		t.Fatalf("systemd-analyze verify --user: %v\n%s", err, out)
	}
}

func TestXDGAutostartEntry(t *testing.T) {
	entry := parseINI(t, filepath.Join("linux", "candy_cadence_exporter.desktop"))
	for key, want := range map[string]string{
		"Desktop Entry.Type":     "Application",
		"Desktop Entry.Terminal": "false",
	} {
		if got := entry[key]; len(got) != 1 || got[0] != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	for _, key := range []string{"Name", "Exec"} {
		if len(entry["Desktop Entry."+key]) != 1 {
			t.Errorf("%s must be given once", key)
		}
	}
	if execLine := strings.Join(entry["Desktop Entry.Exec"], ""); !strings.Contains(execLine, "exec candy_cadence_exporter ") || !strings.Contains(execLine, "--log.file=") {
		t.Errorf("Exec %q: want candy_cadence_exporter with a --log.file", execLine)
	}
	for key := range entry {
		if !strings.HasPrefix(key, "Desktop Entry.") {
			t.Errorf("%s: an autostart entry has one group, [Desktop Entry]", key)
		}
	}
}

// parseINI reads a systemd unit or desktop entry into "Group.Key" -> values.
func parseINI(t *testing.T, path string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	group := ""
	sc := bufio.NewScanner(strings.NewReader(readFile(t, path)))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			group = line[1 : len(line)-1]
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || group == "" {
				t.Fatalf("%s:%d: %q is neither a group, a key=value nor a comment", path, n, line)
			}
			k := group + "." + strings.TrimSpace(key)
			out[k] = append(out[k], strings.TrimSpace(value))
		}
	}
	return out
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
