package history

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// Defaults of the PromQL limits: Prometheus's own for its flags of the same
// names (--query.timeout, --query.max-concurrency, --query.max-samples), and
// gpumon's for the size of a query, which Prometheus does not bound.
const (
	DefaultQueryTimeout     = 2 * time.Minute
	DefaultQueryConcurrency = 20
	DefaultQuerySamples     = 50_000_000
	DefaultQueryLength      = 64 << 10
	// MaxQueryDepth bounds how deep brackets nest in a query. Parsing is
	// quadratic in the depth (a 40,000-deep query held a CPU for over a
	// minute) and runs before any timeout or concurrency limit applies.
	MaxQueryDepth = 256
)

// QueryLimits bound the PromQL work one hub does.
type QueryLimits struct {
	Timeout        time.Duration // per query, queueing included
	MaxConcurrency int           // queries evaluated at once; more wait
	MaxSamples     int           // samples one query may hold in memory
	MaxLength      int           // bytes of query text
}

func (l QueryLimits) withDefaults() QueryLimits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultQueryTimeout
	}
	if l.MaxConcurrency <= 0 {
		l.MaxConcurrency = DefaultQueryConcurrency
	}
	if l.MaxSamples <= 0 {
		l.MaxSamples = DefaultQuerySamples
	}
	if l.MaxLength <= 0 {
		l.MaxLength = DefaultQueryLength
	}
	return l
}

// limitedParser refuses queries over the size limits before parsing them.
type limitedParser struct {
	parser.Parser
	maxLength int
}

// CheckQuery returns an error for a query over maxLength bytes or nested
// deeper than MaxQueryDepth.
func CheckQuery(q string, maxLength int) error {
	if len(q) > maxLength {
		return fmt.Errorf("query is %d bytes long, over the limit of %d (--query.max-length)", len(q), maxLength)
	}
	if d := depth(q); d > MaxQueryDepth {
		return fmt.Errorf("query nests brackets %d deep, over the limit of %d", d, MaxQueryDepth)
	}
	return nil
}

// depth is how deep (, [ and { nest in q, outside string literals and
// comments.
func depth(q string) int {
	var cur, deepest int
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == '\\' && quote != '`' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '#':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case c == '(' || c == '[' || c == '{':
			cur++
			deepest = max(deepest, cur)
		case c == ')' || c == ']' || c == '}':
			cur--
		}
	}
	return deepest
}

func (p limitedParser) ParseExpr(input string) (parser.Expr, error) {
	if err := CheckQuery(input, p.maxLength); err != nil {
		return nil, err
	}
	return p.Parser.ParseExpr(input)
}

func (p limitedParser) ParseMetricSelector(input string) ([]*labels.Matcher, error) {
	if err := CheckQuery(input, p.maxLength); err != nil {
		return nil, err
	}
	return p.Parser.ParseMetricSelector(input)
}

func (p limitedParser) ParseMetricSelectors(matchers []string) ([][]*labels.Matcher, error) {
	for _, m := range matchers {
		if err := CheckQuery(m, p.maxLength); err != nil {
			return nil, err
		}
	}
	return p.Parser.ParseMetricSelectors(matchers)
}

// slots lets at most cap(ch) queries run at once (promql.QueryTracker);
// Insert waits for a free slot until the query's context ends.
type slots chan struct{}

func (s slots) GetMaxConcurrent() int { return cap(s) }

func (s slots) Insert(ctx context.Context, _ string) (int, error) {
	select {
	case s <- struct{}{}:
		return 0, nil
	case <-ctx.Done():
		return 0, fmt.Errorf("waiting for one of %d query slots (--query.max-concurrency): %w", cap(s), ctx.Err())
	}
}

func (s slots) Delete(int) { <-s }

func (s slots) Close() error { return nil }
