package rules

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v2"
)

// The alert budget: docs/rules.md has a table of scenarios (days of a fleet, scraped every 15 s
// and evaluated every minute) with the pages and tickets each produces. TestAlertBudget runs
// every scenario through promtool with the shipped rules, reads which alerts fired at each
// minute (the ALERTS series), and passes them through the shipped Alertmanager configuration:
// its routes (receiver, time intervals), grouping and inhibitions. A page is a group's first
// notification to the paging receiver, a ticket one to the chat receiver: later notifications
// of a group that is still open update the same incident (a pager deduplicates them by the
// group key), and a group closes when all its alerts have resolved.

const (
	scenarioGlob    = "scenarios/*.yml"
	pagingReceiver  = "paging"
	ticketReceiver  = "chat"
	budgetHeading   = "## Alert budget"
	firingAlertExpr = `ALERTS{alertstate="firing"}`
)

// budgetRow is one row of the alert budget table.
type budgetRow struct {
	scenario, file string
	pages, tickets int
}

func readBudgetTable(t *testing.T) []budgetRow {
	t.Helper()
	f, err := os.Open(rulesDocPath)
	if err != nil {
		t.Fatalf("open rules doc: %v", err)
	}
	defer f.Close()
	var rows []budgetRow
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == budgetHeading
		case in && strings.HasPrefix(line, "| "):
			cells := strings.Split(strings.Trim(line, "| "), " | ")
			if len(cells) < 4 || !strings.HasPrefix(cells[1], "`") {
				continue // header and separator
			}
			pages, err1 := strconv.Atoi(strings.TrimSpace(cells[2]))
			tickets, err2 := strconv.Atoi(strings.TrimSpace(cells[3]))
			if err1 != nil || err2 != nil {
				t.Fatalf("alert budget row %q: pages and tickets must be numbers", line)
			}
			rows = append(rows, budgetRow{strings.TrimSpace(cells[0]), strings.Trim(cells[1], "`"), pages, tickets})
		}
	}
	if len(rows) == 0 {
		t.Fatalf("%s has no table under %q", rulesDocPath, budgetHeading)
	}
	return rows
}

func TestAlertBudget(t *testing.T) {
	promtool := os.Getenv("PROMTOOL")
	if promtool == "" {
		var err error
		if promtool, err = exec.LookPath("promtool"); err != nil {
			t.Skip("no promtool: set $PROMTOOL (make rules-test does) or install Debian's prometheus")
		}
	}
	am := loadAlertmanager(t)
	rows := readBudgetTable(t)
	files, _ := filepath.Glob(scenarioGlob)
	for _, f := range files {
		if !slices.ContainsFunc(rows, func(r budgetRow) bool { return r.file == "rules/"+f }) {
			t.Errorf("scenario %s is not in the alert budget table of %s", f, rulesDocPath)
		}
	}
	if testing.Short() {
		t.Skip("runs promtool over days of samples (about 1.5 minutes): make rules-test runs it")
	}
	for _, row := range rows {
		t.Run(row.scenario, func(t *testing.T) {
			t.Parallel()
			timeline := firingTimeline(t, promtool, strings.TrimPrefix(row.file, "rules/"))
			pages, tickets, log := am.notifications(timeline)
			t.Logf("%s: %d pages, %d tickets: %q", row.file, pages, tickets, log)
			if pages != row.pages || tickets != row.tickets {
				t.Errorf("%s: %d pages and %d tickets, the table says %d and %d; notifications:\n%s",
					row.file, pages, tickets, row.pages, row.tickets, strings.Join(log, "\n"))
			}
			if row.pages > 1 {
				t.Errorf("%s: the budget allows at most one page per incident", row.scenario)
			}
		})
	}
}

// alertState is one alert as Alertmanager sees it: its labels.
type alertState map[string]string

func (a alertState) key() string {
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range a {
			if !yield(k) {
				return
			}
		}
	})
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q,", k, a[k])
	}
	return b.String()
}

// firingTimeline runs the scenario with promtool and returns, per minute from its start to the
// end of its input, the alerts firing then.
func firingTimeline(t *testing.T, promtool, path string) [][]alertState {
	t.Helper()
	var doc map[string]any
	loadYAML(t, path, &doc)
	groups, _ := doc["tests"].([]any)
	if len(groups) != 1 {
		t.Fatalf("%s: a scenario has exactly one test group", path)
	}
	group, _ := groups[0].(map[any]any)
	if group["promql_expr_test"] != nil || group["alert_rule_test"] != nil {
		t.Fatalf("%s: a scenario holds no test cases; the budget table is its assertion", path)
	}
	interval := time.Minute
	if iv, ok := group["interval"].(string); ok {
		interval = parseDuration(t, iv)
	}
	minutes := 0
	series, _ := group["input_series"].([]any)
	for _, s := range series {
		values := fmt.Sprint(s.(map[any]any)["values"])
		minutes = max(minutes, int(time.Duration(expandedLength(t, values)-1)*interval/time.Minute))
	}
	cases := make([]any, 0, minutes+1)
	for m := 0; m <= minutes; m++ {
		cases = append(cases, map[string]any{"expr": firingAlertExpr, "eval_time": fmt.Sprintf("%dm", m), "exp_samples": []any{}})
	}
	group["promql_expr_test"] = cases
	data, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatalf("marshal scenario: %v", err)
	}
	// Beside the scenario, so that its relative rule_files resolve.
	tmp, err := os.CreateTemp(filepath.Dir(path), ".run-*.yml")
	if err != nil {
		t.Fatalf("write scenario: %v", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		t.Fatalf("write scenario: %v", err)
	}
	tmp.Close()
	out, _ := exec.Command(promtool, "test", "rules", tmp.Name()).CombinedOutput()
	timeline := make([][]alertState, minutes+1)
	parsed := 0
	for _, m := range gotRegex.FindAllStringSubmatch(string(out), -1) {
		minute := int(parseDuration(t, m[1]) / time.Minute)
		parsed++
		for _, s := range sampleRegex.FindAllStringSubmatch(m[2], -1) {
			a := alertState{}
			for _, l := range labelRegex.FindAllStringSubmatch(s[1], -1) {
				if l[1] != "__name__" && l[1] != "alertstate" {
					a[l[1]] = l[2]
				}
			}
			timeline[minute] = append(timeline[minute], a)
		}
	}
	// Every failing case is an evaluation with an alert firing; a failure without one (a
	// rule file that does not load) is an error.
	if !strings.Contains(string(out), "SUCCESS") && parsed == 0 {
		t.Fatalf("promtool on %s:\n%s", path, out)
	}
	return timeline
}

var (
	gotRegex    = regexp.MustCompile(`expr: "ALERTS\{alertstate=\\"firing\\"\}", time: (\S+),\n\s+exp: .*\n\s+got: (.*)`)
	sampleRegex = regexp.MustCompile(`\{([^{}]*)\} \S+`)
	labelRegex  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
	valueToken  = regexp.MustCompile(`^(?:_|stale|[-+0-9.eEInfa]+)(?:[-+][0-9.eE]+)?(?:x(\d+))?$`)
)

// expandedLength is the number of samples of a promtool values string ("0 1x3 _x2 stale").
func expandedLength(t *testing.T, values string) int {
	n := 0
	for _, tok := range strings.Fields(values) {
		m := valueToken.FindStringSubmatch(tok)
		switch {
		case m == nil:
			t.Fatalf("values token %q: not understood", tok)
		case m[1] == "":
			n++
		default:
			k, _ := strconv.Atoi(m[1])
			if strings.HasPrefix(tok, "_") {
				n += k // _xN is N samples
			} else {
				n += k + 1 // axN and a+bxN are N+1
			}
		}
	}
	return n
}

// alertmanagerModel is what TestAlertBudget needs of alertmanager.yml.
type alertmanagerModel struct {
	route         amRoute
	inhibitRules  []inhibitRule
	timeIntervals map[string][]amTimeInterval
}

type amRoute struct {
	Receiver            string     `yaml:"receiver"`
	Matchers            []string   `yaml:"matchers"`
	GroupBy             []string   `yaml:"group_by"`
	GroupWait           string     `yaml:"group_wait"`
	GroupInterval       string     `yaml:"group_interval"`
	ActiveTimeIntervals []string   `yaml:"active_time_intervals"`
	MuteTimeIntervals   []string   `yaml:"mute_time_intervals"`
	Continue            bool       `yaml:"continue"`
	Routes              []*amRoute `yaml:"routes"`
}

type amTimeInterval struct {
	Weekdays []string `yaml:"weekdays"`
	Times    []struct {
		Start string `yaml:"start_time"`
		End   string `yaml:"end_time"`
	} `yaml:"times"`
	Location string `yaml:"location"`
}

func loadAlertmanager(t *testing.T) *alertmanagerModel {
	t.Helper()
	var cfg struct {
		Route         amRoute       `yaml:"route"`
		InhibitRules  []inhibitRule `yaml:"inhibit_rules"`
		TimeIntervals []struct {
			Name          string           `yaml:"name"`
			TimeIntervals []amTimeInterval `yaml:"time_intervals"`
		} `yaml:"time_intervals"`
	}
	loadYAML(t, alertmanagerConfig, &cfg)
	m := &alertmanagerModel{route: cfg.Route, inhibitRules: cfg.InhibitRules, timeIntervals: map[string][]amTimeInterval{}}
	for _, ti := range cfg.TimeIntervals {
		for _, iv := range ti.TimeIntervals {
			if iv.Location != "" && iv.Location != "UTC" {
				t.Fatalf("time interval %s: the budget's model knows UTC only", ti.Name)
			}
		}
		m.timeIntervals[ti.Name] = ti.TimeIntervals
	}
	var check func(r *amRoute)
	check = func(r *amRoute) {
		for _, mt := range r.Matchers {
			if _, ok := parseMatcher(mt); !ok {
				t.Fatalf("route matcher %q: the budget's model understands name=\"value\" only", mt)
			}
		}
		if r.Continue {
			t.Fatalf("route %v: the budget's model does not follow continue", r.Matchers)
		}
		for _, c := range r.Routes {
			check(c)
		}
	}
	check(&m.route)
	return m
}

// parseMatcher parses name="value".
func parseMatcher(m string) ([2]string, bool) {
	name, value, ok := strings.Cut(m, "=")
	if !ok || strings.ContainsAny(name, "!~") || strings.HasPrefix(value, "~") {
		return [2]string{}, false
	}
	return [2]string{strings.TrimSpace(name), strings.Trim(strings.TrimSpace(value), `"`)}, true
}

func matchesAll(a alertState, matchers []string) bool {
	for _, mt := range matchers {
		m, _ := parseMatcher(mt)
		if a[m[0]] != m[1] {
			return false
		}
	}
	return true
}

// resolvedRoute is the route an alert takes, with what it inherits.
type resolvedRoute struct {
	receiver               string
	groupBy                []string
	groupWait, groupPeriod time.Duration
	active, mute           []string
}

func (m *alertmanagerModel) routeOf(a alertState) resolvedRoute {
	r := resolvedRoute{receiver: m.route.Receiver, groupBy: m.route.GroupBy,
		groupWait: 30 * time.Second, groupPeriod: 5 * time.Minute}
	apply := func(n *amRoute) {
		if n.Receiver != "" {
			r.receiver = n.Receiver
		}
		if n.GroupBy != nil {
			r.groupBy = n.GroupBy
		}
		if n.GroupWait != "" {
			r.groupWait = durationOf(n.GroupWait)
		}
		if n.GroupInterval != "" {
			r.groupPeriod = durationOf(n.GroupInterval)
		}
		r.active, r.mute = n.ActiveTimeIntervals, n.MuteTimeIntervals
	}
	apply(&m.route)
	node := &m.route
	for {
		var next *amRoute
		for _, c := range node.Routes {
			if matchesAll(a, c.Matchers) {
				next = c
				break
			}
		}
		if next == nil {
			return r
		}
		apply(next)
		node = next
	}
}

func durationOf(s string) time.Duration {
	if s == "0s" || s == "0" {
		return 0
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(fmt.Sprintf("duration %q: %v", s, err))
	}
	return d
}

// within reports whether at (seconds since the scenario's start, which is Thursday 1 January
// 1970 00:00 UTC, as in promtool) lies in one of the named time intervals.
func (m *alertmanagerModel) within(names []string, at time.Duration) bool {
	when := time.Unix(int64(at/time.Second), 0).UTC()
	for _, n := range names {
		for _, iv := range m.timeIntervals[n] {
			if !weekdayIn(iv.Weekdays, when.Weekday()) {
				continue
			}
			minute := when.Hour()*60 + when.Minute()
			if len(iv.Times) == 0 {
				return true
			}
			for _, tr := range iv.Times {
				if clock(tr.Start) <= minute && minute < clock(tr.End) {
					return true
				}
			}
		}
	}
	return false
}

var weekdays = []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

func weekdayIn(ranges []string, d time.Weekday) bool {
	if len(ranges) == 0 {
		return true
	}
	for _, r := range ranges {
		from, to, ok := strings.Cut(r, ":")
		if !ok {
			to = from
		}
		if lo, hi := slices.Index(weekdays, from), slices.Index(weekdays, to); lo <= int(d) && int(d) <= hi {
			return true
		}
	}
	return false
}

func clock(hhmm string) int {
	h, m, _ := strings.Cut(hhmm, ":")
	hi, _ := strconv.Atoi(h)
	mi, _ := strconv.Atoi(m)
	return hi*60 + mi
}

// inhibited reports whether a firing alert inhibits a, as Alertmanager's inhibitor does: a
// source alert matching the source matchers, a target matching the target matchers, equal
// values (a missing label is the empty value) of the equal labels, and not the alert itself.
func (m *alertmanagerModel) inhibited(a alertState, firing []alertState) bool {
	for _, ir := range m.inhibitRules {
		if !matchesAll(a, ir.TargetMatchers) {
			continue
		}
		for _, s := range firing {
			if s.key() == a.key() || !matchesAll(s, ir.SourceMatchers) {
				continue
			}
			if !slices.ContainsFunc(ir.Equal, func(l string) bool { return s[l] != a[l] }) {
				return true
			}
		}
	}
	return false
}

// notifications runs the timeline through the routes, grouping and inhibitions and counts
// the incidents (a group's first notification) sent to the pager and as tickets.
func (m *alertmanagerModel) notifications(timeline [][]alertState) (pages, tickets int, log []string) {
	type group struct {
		route    resolvedRoute
		next     time.Duration // next flush
		notified bool
	}
	groups := map[string]*group{}
	firingAt := func(at time.Duration) []alertState {
		minute := int(at / time.Minute)
		if minute >= len(timeline) {
			return nil
		}
		return timeline[minute]
	}
	groupKey := func(a alertState, r resolvedRoute) string {
		k := r.receiver
		for _, l := range r.groupBy {
			k += "," + l + "=" + a[l]
		}
		return k
	}
	end := time.Duration(len(timeline)) * time.Minute
	for at := time.Duration(0); at < end; at += 10 * time.Second {
		firing := firingAt(at)
		// New alerts open their group (inhibited or not: Alertmanager groups every alert).
		members := map[string][]alertState{}
		for _, a := range firing {
			r := m.routeOf(a)
			k := groupKey(a, r)
			members[k] = append(members[k], a)
			if groups[k] == nil {
				groups[k] = &group{route: r, next: at + r.groupWait}
			}
		}
		for k, g := range groups {
			if at < g.next {
				continue
			}
			g.next = at + g.route.groupPeriod
			if len(members[k]) == 0 {
				delete(groups, k) // all resolved: the incident is over
				continue
			}
			if g.notified || (len(g.route.active) > 0 && !m.within(g.route.active, at)) || m.within(g.route.mute, at) {
				continue
			}
			var sent []string
			for _, a := range members[k] {
				if !m.inhibited(a, firing) {
					sent = append(sent, a["alertname"]+"{"+a["instance"]+a["site"]+"}")
				}
			}
			if len(sent) == 0 {
				continue
			}
			g.notified = true
			switch g.route.receiver {
			case pagingReceiver:
				pages++
			case ticketReceiver:
				tickets++
			default:
				continue
			}
			log = append(log, fmt.Sprintf("%v %s: %s", at, g.route.receiver, strings.Join(sent, " ")))
		}
	}
	return pages, tickets, log
}
