package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// pageFilter is a list command's own filter: the query parameter, its flag and the
// flag's help.
type pageFilter struct{ param, flag, usage string }

// pageFlags are the flags of a paged, newest-first list of the admin API: a time
// range, the command's filters, a cursor, a page size and JSON output.
type pageFlags struct {
	values map[string]*string // query parameter -> flag value
	limit  int
	asJSON bool
}

// addPageFlags registers the flags of a paged list of noun (findings, events) on cmd.
func addPageFlags(cmd *cobra.Command, noun string, filters ...pageFilter) *pageFlags {
	p := &pageFlags{values: map[string]*string{}}
	f := cmd.Flags()
	str := func(param, flag, usage string) {
		p.values[param] = f.String(flag, "", usage)
	}
	str("from", "from", "only "+noun+" at or after this time (RFC 3339 or a date)")
	str("to", "to", "only "+noun+" before this time (RFC 3339 or a date)")
	for _, fl := range filters {
		str(fl.param, fl.flag, fl.usage)
	}
	str("cursor", "cursor", "the next page after this cursor")
	f.IntVar(&p.limit, "limit", 0, noun+" per page (default 100, at most 1000)")
	f.BoolVar(&p.asJSON, "json", false, "print JSON")
	return p
}

// query is the encoded query of the flags that are set.
func (p *pageFlags) query() string {
	q := reportQuery(p.values)
	if p.limit > 0 {
		q.Set("limit", fmt.Sprint(p.limit))
	}
	return q.Encode()
}
