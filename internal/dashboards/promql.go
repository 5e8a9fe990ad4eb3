package dashboards

import (
	"slices"
	"strings"
)

// promqlWords are identifiers that are not metric names: operators, modifiers and the
// aggregations (which may put their grouping clause before their parenthesis).
var promqlWords = []string{
	"and", "or", "unless", "bool", "offset", "inf", "nan", "start", "end",
	"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
	"bottomk", "topk", "quantile", "limitk", "limit_ratio",
}

// groupingWords are followed by a parenthesised list of label names.
var groupingWords = []string{"by", "without", "on", "ignoring", "group_left", "group_right"}

// MetricNames returns the metric names a PromQL expression selects, in order of first
// appearance. It is a lexer, not a parser: it skips strings, label matchers {...}, ranges
// [...] (where Grafana's $__rate_interval sits), numbers and durations, the label lists of
// grouping clauses and identifiers followed by "(" (functions); what is left are metric names.
// That is enough for the dashboards' plain PromQL and keeps the Prometheus module out of go.mod.
func MetricNames(expr string) []string {
	var names []string
	for i := 0; i < len(expr); {
		c := expr[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			i = skipString(expr, i)
		case c == '{':
			i = skipBracket(expr, i, '{', '}')
		case c == '[':
			i = skipBracket(expr, i, '[', ']')
		case isDigit(c) || c == '.':
			for i < len(expr) && (isIdentChar(expr[i]) || expr[i] == '.') {
				i++ // 0.95, 1e9, 5m, 1h30m
			}
		case isIdentStart(c):
			start := i
			for i < len(expr) && isIdentChar(expr[i]) {
				i++
			}
			word := expr[start:i]
			next := skipSpace(expr, i)
			followedByParen := next < len(expr) && expr[next] == '('
			lower := strings.ToLower(word)
			switch {
			case slices.Contains(groupingWords, lower):
				if followedByParen {
					i = skipBracket(expr, next, '(', ')')
				}
			case slices.Contains(promqlWords, lower), followedByParen:
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

// skipString returns the index after the string literal that starts at i.
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
