// SPDX-License-Identifier: EUPL-1.2

package fim

import "strings"

// ElementCensus counts elements by "namespace local" and non-blank direct
// character data by "text …", for comparing the reader with encoding/xml.
func ElementCensus(data []byte) map[string]int {
	root, release, err := parseXML(data)
	if err != nil {
		return nil
	}
	defer release()
	out := map[string]int{}
	var walk func(n *node)
	walk = func(n *node) {
		out[n.space+" "+n.local]++
		if s := strings.TrimSpace(n.str()); s != "" {
			out["text "+s]++
		}
		for _, k := range n.kids {
			walk(k)
		}
	}
	walk(root)
	return out
}
