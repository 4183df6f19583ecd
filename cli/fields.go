package cli

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/kith-p2p/kith/graph"
)

// fieldRow is one line of a card as `kith contacts show` prints it.
type fieldRow struct {
	label, value string
	field        graph.Field
}

// fieldRows lays out a card for people: a field's label carries its types,
// its Apple/Google label (an X-ABLABEL in its group, shown there instead of
// on a line of its own) and "pref"; images show as their type and size; a
// value kept as written is marked so, and a friend's invalid value says why.
func fieldRows(c graph.Card) []fieldRow {
	labels := map[string]string{} // group → its X-ABLABEL
	grouped := map[string]int{}   // group → fields in it but labels
	for _, f := range c.Fields {
		switch {
		case f.Group == "":
		case f.Name == "x-ablabel":
			labels[f.Group] = appleLabel(f.Value)
		default:
			grouped[f.Group]++
		}
	}
	var rows []fieldRow
	for _, f := range c.Fields {
		if f.Name == "x-ablabel" && grouped[f.Group] > 0 {
			continue // shown on the field it labels
		}
		tags := append([]string{}, f.Types...)
		if l := labels[f.Group]; l != "" && f.Name != "x-ablabel" {
			tags = append(tags, l)
		}
		if f.Pref > 0 {
			tags = append(tags, "pref")
		}
		label := f.Name
		if len(tags) > 0 {
			label += " (" + strings.Join(tags, ",") + ")"
		}
		value := displayValue(f.Name, f.Value)
		switch _, known := graph.LookupField(f.Name); {
		case f.Invalid != "":
			value += "   [invalid, as sent: " + f.Invalid + "]"
		case f.Raw && known:
			value += "   [kept as written]"
		}
		rows = append(rows, fieldRow{label: label, value: value, field: f})
	}
	return rows
}

// appleLabel turns Apple's built-in labels (_$!<HomePage>!$_) into words.
func appleLabel(v string) string {
	if s, ok := strings.CutPrefix(v, "_$!<"); ok {
		if s, ok := strings.CutSuffix(s, ">!$_"); ok {
			return s
		}
	}
	return v
}

// displayValue renders a field's value for a table: an address on one
// line, an inline image as its type and size.
func displayValue(name, value string) string {
	if header, data, ok := strings.Cut(value, ","); ok && len(header) > 5 && strings.EqualFold(header[:5], "data:") {
		media := strings.TrimSuffix(header[5:], ";base64")
		return fmt.Sprintf("%s, %s", media, humanBytes(int64(base64.StdEncoding.DecodedLen(len(data)))))
	}
	if name != "adr" {
		return value
	}
	var parts []string
	for _, p := range strings.Split(strings.ReplaceAll(value, "\n", ";"), ";") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}
