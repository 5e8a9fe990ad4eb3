// Package promql finds the metric names a PromQL expression selects, for the checks that the
// rules and the dashboards name only metrics that something produces.
package promql

import (
	"slices"
	"strings"
)

// promqlKeywords are identifiers that are not metric names. The grouping keywords are followed
// by a parenthesised list of label names, which is skipped with them.
var (
	promqlKeywords = []string{"and", "or", "unless", "bool", "offset", "inf", "nan", "atan2", "start", "end"}
	groupingWords  = []string{"by", "without", "on", "ignoring", "group_left", "group_right"}
	// aggregators may be followed by a grouping clause before their "(".
	aggregators = []string{
		"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
		"bottomk", "topk", "quantile", "limitk", "limit_ratio",
	}
)

// MetricNames returns the metric names a PromQL expression selects, in order of appearance,
// without duplicates. It is a lexer, not a parser: it skips strings, label matchers {...},
// ranges [...], comments, numbers and durations, grouping label lists, and identifiers
// followed by "(" (functions and aggregations); what is left are metric names. That is
// enough for the rules and dashboards, written in plain PromQL (Grafana's $__rate_interval
// sits in a range), and keeps the Prometheus module out of go.mod.
func MetricNames(expr string) []string {
	var names []string
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '#':
			i = skipPast(expr, i, "\n")
		case c == '"' || c == '\'' || c == '`':
			i = skipString(expr, i)
		case c == '{':
			i = skipBracket(expr, i, '{', '}')
		case c == '[':
			i = skipBracket(expr, i, '[', ']')
		case isDigit(c) || c == '.':
			for i < len(expr) && (isIdentChar(expr[i]) || expr[i] == '.') {
				i++ // numbers, exponents, durations: 1.5e9, 0x1f, 5m, 1h30m
			}
		case isIdentStart(c):
			start := i
			for i < len(expr) && isIdentChar(expr[i]) {
				i++
			}
			word := expr[start:i]
			next := skipSpace(expr, i)
			lower := strings.ToLower(word)
			switch {
			case slices.Contains(groupingWords, lower):
				if next < len(expr) && expr[next] == '(' {
					i = skipBracket(expr, next, '(', ')')
				}
			case slices.Contains(promqlKeywords, lower), slices.Contains(aggregators, lower):
			case next < len(expr) && expr[next] == '(':
				// a function or an aggregation
			case !slices.Contains(names, word):
				names = append(names, word)
			}
		default:
			i++
		}
	}
	return names
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isIdentStart(c byte) bool {
	return c == '_' || c == ':' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}
func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) }

func skipSpace(s string, i int) int {
	for i < len(s) && strings.ContainsRune(" \t\r\n", rune(s[i])) {
		i++
	}
	return i
}

// skipPast returns the index after the first occurrence of end at or after i (or len(s)).
func skipPast(s string, i int, end string) int {
	j := strings.Index(s[i:], end)
	if j < 0 {
		return len(s)
	}
	return i + j + len(end)
}

// skipString returns the index after the string literal starting at i.
func skipString(s string, i int) int {
	quote := s[i]
	for i++; i < len(s); i++ {
		switch {
		case s[i] == '\\' && quote != '`':
			i++
		case s[i] == quote:
			return i + 1
		}
	}
	return len(s)
}

// skipBracket returns the index after the bracket that closes the one at i, skipping strings.
func skipBracket(s string, i int, open, close byte) int {
	depth := 0
	for i < len(s) {
		switch s[i] {
		case '"', '\'', '`':
			i = skipString(s, i)
			continue
		case open:
			depth++
		case close:
			depth--
			if depth == 0 {
				return i + 1
			}
		}
		i++
	}
	return len(s)
}
