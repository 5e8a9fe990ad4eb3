//lint:file-ignore SA1019 the SDK deprecates its classic dashboard type for the v2 schema, but the classic JSON model is what Grafana provisions and imports (see Build).

package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/gauge"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// The variables every dashboard has. Every query selects with them (see sel).
const (
	DatasourceVar = "datasource"
	JobVar        = "job"
	SiteVar       = "site"
	InstanceVar   = "instance"
)

// variableSource is the metric whose labels list the jobs, sites and instances: every
// exporter exposes it, and nothing but this exporter does.
const variableSource = "candy_cadence_exporter_build_info"

// Variable is a query variable of the dashboards, for the live check: its name and the label
// whose values it lists.
type Variable struct {
	Name  string
	Query string // label_values(...) as Grafana's Prometheus data source runs it
	Label string
	Match string // the series selector whose label values it lists
}

// Variables returns the query variables, in the order they depend on each other.
func Variables() []Variable {
	return []Variable{
		{Name: JobVar, Label: "job", Match: variableSource},
		{Name: SiteVar, Label: "site", Match: variableSource + `{job=~"$job"}`},
		{Name: InstanceVar, Label: "instance", Match: variableSource + `{job=~"$job", site=~"$site"}`},
	}
}

func (v Variable) query() string { return "label_values(" + v.Match + ", " + v.Label + ")" }

// All returns the dashboards. runbooks maps each alert name of the shipped rules to its
// runbook address (ReadRunbooks).
func All(runbooks map[string]string) []Dashboard {
	return []Dashboard{fleet(runbooks), workstation(), database(), logs()}
}

// Generate returns the JSON of every dashboard by file name, as committed in dashboards/.
func Generate(runbooks map[string]string) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, d := range All(runbooks) {
		built, err := Build(d)
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", d.UID, err)
		}
		js, err := Marshal(built)
		if err != nil {
			return nil, fmt.Errorf("dashboard %s: %w", d.UID, err)
		}
		out[d.File] = js
	}
	return out, nil
}

// Marshal encodes a dashboard as committed: indented, without HTML escaping (PromQL's < and >
// stay readable), with a final newline.
func Marshal(d dashboard.Dashboard) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func ptr[T any](v T) *T { return &v }

// datasourceRef points a panel or query at the dashboard's data source variable.
func datasourceRef() common.DataSourceRef {
	return common.DataSourceRef{Type: ptr("prometheus"), Uid: ptr("${" + DatasourceVar + "}")}
}

// Build turns a dashboard definition into the SDK's dashboard.
//
// The SDK marks its classic dashboard type deprecated in favour of the v2 schema, which only
// Grafana 12 with a feature flag imports; file provisioning and import in every Grafana in use
// read the classic JSON model, so that is what is built.
func Build(d Dashboard) (dashboard.Dashboard, error) {
	b := dashboard.NewDashboardBuilder(d.Title).
		Uid(d.UID).
		Description(d.Description).
		Tags(d.Tags).
		Editable().
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Time("now-6h", "now").
		Timezone(common.TimeZoneBrowser).
		Refresh("1m").
		Link(dashboard.NewDashboardLinkBuilder("Candy-Cadence").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{Tag}).
			AsDropdown(false).
			IncludeVars(true).
			KeepTime(true).
			TargetBlank(false).
			Icon("external link").
			Tooltip(""))
	b.WithVariable(dashboard.NewDatasourceVariableBuilder(DatasourceVar).
		Label("Data source").
		Type("prometheus"))
	for _, v := range Variables() {
		qv := dashboard.NewQueryVariableBuilder(v.Name).
			Label(v.Label).
			Datasource(datasourceRef()).
			Query(dashboard.StringOrMap{String: ptr(v.query())}).
			Definition(v.query()).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortNaturalAsc)
		switch {
		case v.Name == InstanceVar && !d.MultiInstance:
			// The drill-down dashboards show one workstation.
		case v.Name == SiteVar:
			// A fleet without a site label still matches: "" matches .*.
			qv.Multi(true).IncludeAll(true).AllValue(".*").Current(allOption())
		default:
			qv.Multi(true).IncludeAll(true).AllValue(".+").Current(allOption())
		}
		b.WithVariable(qv)
	}
	built, err := b.Build()
	if err != nil {
		return dashboard.Dashboard{}, err
	}
	for i := range built.Links {
		// Without a placement the links show in the dashboard's link bar in every Grafana
		// version, not only in Grafana 12's controls menu.
		built.Links[i].Placement = nil
	}
	panels, err := layout(d)
	if err != nil {
		return dashboard.Dashboard{}, err
	}
	built.Panels = panels
	return built, nil
}

func allOption() dashboard.VariableOption {
	return dashboard.VariableOption{
		Selected: ptr(true),
		Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
		Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
	}
}

// layout places the rows and their panels on Grafana's 24-column grid, left to right, and
// numbers them: ids are the order of appearance, so they are unique and stable.
func layout(d Dashboard) ([]dashboard.PanelOrRowPanel, error) {
	var out []dashboard.PanelOrRowPanel
	var id, y uint32
	for _, row := range d.Rows {
		id++
		out = append(out, dashboard.PanelOrRowPanel{RowPanel: &dashboard.RowPanel{
			Type:    "row",
			Title:   ptr(row.Title),
			Id:      id,
			GridPos: &dashboard.GridPos{X: 0, Y: y, W: 24, H: 1},
			Panels:  []dashboard.Panel{},
		}})
		y++
		var x, rowHeight uint32
		for _, p := range row.Panels {
			w, h := p.size()
			if x+w > 24 {
				x, y, rowHeight = 0, y+rowHeight, 0
			}
			id++
			built, err := buildPanel(d, p)
			if err != nil {
				return nil, fmt.Errorf("panel %q: %w", p.Title, err)
			}
			built.Id = ptr(id)
			built.GridPos = &dashboard.GridPos{X: x, Y: y, W: w, H: h}
			out = append(out, dashboard.PanelOrRowPanel{Panel: &built})
			x += w
			rowHeight = max(rowHeight, h)
		}
		y += rowHeight
	}
	return out, nil
}

func (p Panel) size() (w, h uint32) {
	w, h = p.Width, p.Height
	if w == 0 {
		w = 6
	}
	if h == 0 {
		h = 8
		if p.Kind == Stat || p.Kind == Gauge {
			h = 5
		}
	}
	return w, h
}

// buildPanel builds the panel's visualisation with its SDK builder, then sets what every panel
// has: title, description, data source, targets, unit and field options.
func buildPanel(d Dashboard, p Panel) (dashboard.Panel, error) {
	built, err := visualisation(p)
	if err != nil {
		return dashboard.Panel{}, err
	}
	built.Title = ptr(p.Title)
	built.Description = ptr(p.Description)
	built.Datasource = ptr(datasourceRef())
	for i, q := range p.Queries {
		qb := prometheus.NewDataqueryBuilder().
			Expr(q.Expr).
			RefId(refID(i)).
			Datasource(datasourceRef())
		if q.Legend != "" {
			qb.LegendFormat(q.Legend)
		}
		switch {
		case p.Kind == Table:
			qb.Instant().Format(prometheus.PromQueryFormatTable)
		case p.Kind == Heatmap:
			qb.Range().Format(prometheus.PromQueryFormatHeatmap)
		case q.Instant:
			qb.Instant()
		default:
			qb.Range()
		}
		target, err := qb.Build()
		if err != nil {
			return dashboard.Panel{}, err
		}
		built.Targets = append(built.Targets, target)
	}
	if built.FieldConfig == nil {
		built.FieldConfig = dashboard.NewFieldConfigSource()
	}
	fc := &built.FieldConfig.Defaults
	fc.Unit = ptr(p.Unit)
	fc.Min, fc.Max = p.Min, p.Max
	if p.NoValue != "" {
		fc.NoValue = ptr(p.NoValue)
	}
	if len(p.Mappings) > 0 {
		fc.Mappings = valueMappings(p.Mappings)
	}
	steps := []dashboard.Threshold{{Color: "green"}}
	if len(p.Steps) > 0 {
		steps = steps[:0]
		for _, s := range p.Steps {
			steps = append(steps, dashboard.Threshold{Value: s.Value, Color: s.Color})
		}
	}
	fc.Thresholds = &dashboard.ThresholdsConfig{Mode: dashboard.ThresholdsModeAbsolute, Steps: steps}
	built.FieldConfig.Overrides = append(built.FieldConfig.Overrides, thresholdOverrides(p)...)
	if p.InstanceLink {
		built.FieldConfig.Overrides = append(built.FieldConfig.Overrides, instanceLinkOverride())
	}
	if p.RunbookLink {
		built.FieldConfig.Overrides = append(built.FieldConfig.Overrides, runbookOverrides()...)
	}
	if p.Kind == Table {
		exclude := map[string]bool{"Time": true, "__name__": true}
		for _, c := range p.HideColumns {
			exclude[c] = true
		}
		options := map[string]any{"excludeByName": exclude}
		if p.ValueColumn != "" {
			options["renameByName"] = map[string]string{"Value": p.ValueColumn}
		}
		built.Transformations = []dashboard.DataTransformerConfig{{Id: "organize", Options: options}}
	}
	return built, nil
}

// refID names the i-th query A, B, C, ...
func refID(i int) string { return string(rune('A' + i)) }

// visualisation builds the panel type's own options.
func visualisation(p Panel) (dashboard.Panel, error) {
	reduce := common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)
	switch p.Kind {
	case TimeSeries:
		b := timeseries.NewPanelBuilder().
			Legend(common.NewVizLegendOptionsBuilder().
				ShowLegend(true).
				DisplayMode(common.LegendDisplayModeList).
				Placement(common.LegendPlacementBottom)).
			Tooltip(common.NewVizTooltipOptionsBuilder().
				Mode(common.TooltipDisplayModeMulti).
				Sort(common.SortOrderDescending)).
			LineWidth(1).
			FillOpacity(10).
			ShowPoints(common.VisibilityModeNever).
			SpanNulls(common.BoolOrFloat64{Bool: ptr(false)})
		if p.Bars {
			b.DrawStyle(common.GraphDrawStyleBars).FillOpacity(80)
		} else {
			b.DrawStyle(common.GraphDrawStyleLine)
		}
		if p.Stack {
			b.Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal))
		}
		return b.Build()
	case Stat:
		return stat.NewPanelBuilder().
			ReduceOptions(reduce).
			ColorMode(common.BigValueColorModeValue).
			GraphMode(common.BigValueGraphModeNone).
			TextMode(common.BigValueTextModeAuto).
			JustifyMode(common.BigValueJustifyModeAuto).
			Orientation(common.VizOrientationAuto).
			Build()
	case Gauge:
		return gauge.NewPanelBuilder().
			ReduceOptions(reduce).
			ShowThresholdMarkers(true).
			ShowThresholdLabels(false).
			Build()
	case Table:
		return table.NewPanelBuilder().
			ShowHeader(true).
			Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{"sum"})).
			CellHeight(common.TableCellHeightSm).
			Build()
	case Heatmap:
		return heatmap.NewPanelBuilder().
			Calculate(false).
			YAxis(heatmap.NewYAxisConfigBuilder().Unit(p.Unit)).
			Color(heatmap.NewHeatmapColorOptionsBuilder().
				Mode(heatmap.HeatmapColorModeScheme).
				Scheme("Oranges").
				Scale(heatmap.HeatmapColorScaleExponential).
				Exponent(0.5).
				Steps(64).
				Fill("dark-orange").
				Reverse(false)).
			CellGap(1).
			ShowValue(common.VisibilityModeNever).
			Tooltip(heatmap.NewHeatmapTooltipBuilder().Mode(common.TooltipDisplayModeSingle).YHistogram(true)).
			Build()
	}
	return dashboard.Panel{}, fmt.Errorf("unknown panel kind %q", p.Kind)
}

// valueMappings turns value -> text into Grafana's value mappings, in a stable order.
func valueMappings(mappings map[string]string) []dashboard.ValueMapping {
	options := map[string]dashboard.ValueMappingResult{}
	keys := make([]string, 0, len(mappings))
	for k := range mappings {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for i, k := range keys {
		options[k] = dashboard.ValueMappingResult{Text: ptr(mappings[k]), Index: ptr(int32(i))}
	}
	return []dashboard.ValueMapping{{ValueMap: &dashboard.ValueMap{Type: dashboard.MappingTypeValueToText, Options: options}}}
}

// thresholdOverrides draws the threshold queries of a time series as dashed lines, never
// stacked or filled: the first orange, the last red (a KPI target before an alert threshold).
func thresholdOverrides(p Panel) []dashboard.DashboardFieldConfigSourceOverrides {
	var refs []string
	for i, q := range p.Queries {
		if q.Threshold {
			refs = append(refs, refID(i))
		}
	}
	var out []dashboard.DashboardFieldConfigSourceOverrides
	for i, ref := range refs {
		color := "red"
		if i < len(refs)-1 {
			color = "orange"
		}
		out = append(out, dashboard.DashboardFieldConfigSourceOverrides{
			Matcher: dashboard.MatcherConfig{Id: "byFrameRefID", Options: ref},
			Properties: []dashboard.DynamicConfigValue{
				{Id: "custom.lineStyle", Value: map[string]any{"fill": "dash", "dash": []int{10, 10}}},
				{Id: "custom.drawStyle", Value: "line"},
				{Id: "custom.fillOpacity", Value: 0},
				{Id: "custom.stacking", Value: map[string]any{"mode": "none", "group": "thresholds"}},
				{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": color}},
			},
		})
	}
	return out
}

// instanceLinkOverride makes a table's instance cells open the workstation dashboard for that
// instance, carrying the data source, job, site and time range: the fleet view's drill-down.
func instanceLinkOverride() dashboard.DashboardFieldConfigSourceOverrides {
	url := "/d/" + WorkstationUID + "?var-" + InstanceVar + "=${__value.raw}" +
		"&${" + DatasourceVar + ":queryparam}&${" + JobVar + ":queryparam}&${" + SiteVar + ":queryparam}&${__url_time_range}"
	return dashboard.DashboardFieldConfigSourceOverrides{
		Matcher: dashboard.MatcherConfig{Id: "byName", Options: InstanceVar},
		Properties: []dashboard.DynamicConfigValue{{Id: "links", Value: links(dashboard.DashboardLink{
			Title:   "Open workstation ${__value.raw}",
			Type:    dashboard.DashboardLinkTypeLink,
			Url:     ptr(url),
			Tags:    []string{},
			Icon:    "dashboard",
			Tooltip: "Workstation dashboard",
		})}},
	}
}

// runbookOverrides link the alertname cells to the runbook address carried in runbookLabel,
// and hide that column.
func runbookOverrides() []dashboard.DashboardFieldConfigSourceOverrides {
	return []dashboard.DashboardFieldConfigSourceOverrides{
		{
			Matcher: dashboard.MatcherConfig{Id: "byName", Options: "alertname"},
			Properties: []dashboard.DynamicConfigValue{{Id: "links", Value: links(dashboard.DashboardLink{
				Title:       "Runbook: ${__value.raw}",
				Type:        dashboard.DashboardLinkTypeLink,
				Url:         ptr("${__data.fields." + runbookLabel + "}"),
				Tags:        []string{},
				Icon:        "doc",
				Tooltip:     "Runbook section of this alert",
				TargetBlank: true,
			})}},
		},
		{
			Matcher:    dashboard.MatcherConfig{Id: "byName", Options: runbookLabel},
			Properties: []dashboard.DynamicConfigValue{{Id: "custom.hidden", Value: true}},
		},
	}
}

// links returns data links as the generic JSON values Grafana's override properties hold, so
// that a decoded dashboard encodes to the same bytes (its keys in sorted order).
func links(ls ...dashboard.DashboardLink) any {
	data, err := json.Marshal(ls)
	if err != nil {
		panic(err) // a DashboardLink always encodes
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		panic(err)
	}
	return v
}
