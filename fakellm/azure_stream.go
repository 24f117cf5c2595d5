package fakellm

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
	"github.com/tidwall/sjson"
)

// azureWriter adds Azure's content-filter annotations to what an OpenAI handler
// writes: it opens a stream with the prompt-filter chunk and adds
// content_filter_results to every choice of a chunk or completion. It relies on the
// OpenAI handlers writing one whole SSE event, or one whole JSON body, per Write.
// Bodies with a Content-Length (the drop_midstream mode) pass through untouched.
type azureWriter struct {
	http.ResponseWriter
	filterCompletion bool // end the answer with finish_reason content_filter
	annotate         bool // false for embeddings, which Azure does not annotate

	status   int
	opened   bool // the prompt-filter chunk went out
	verbatim bool
}

// promptFilterResults is Azure's verdict on a harmless prompt.
var promptFilterResults = json.RawMessage(`[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},` +
	`"jailbreak":{"filtered":false,"detected":false},"self_harm":{"filtered":false,"severity":"safe"},` +
	`"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":false,"severity":"safe"}}}]`)

// contentFilterResults is Azure's verdict on a choice; filtered marks violence.
func contentFilterResults(filtered bool) string {
	severity := "safe"
	if filtered {
		severity = "medium"
	}
	return `{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"},` +
		`"sexual":{"filtered":false,"severity":"safe"},"violence":{"filtered":` + boolText(filtered) + `,"severity":"` + severity + `"}}`
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// Unwrap lets http.ResponseController reach the real writer to flush it.
func (w *azureWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *azureWriter) WriteHeader(status int) {
	w.status = status
	w.verbatim = status != http.StatusOK || !w.annotate || w.Header().Get("Content-Length") != ""
	w.ResponseWriter.WriteHeader(status)
}

func (w *azureWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.verbatim {
		return w.ResponseWriter.Write(b)
	}
	var out []byte
	if strings.HasPrefix(w.Header().Get("Content-Type"), "text/event-stream") {
		out = w.event(b)
	} else {
		out = w.annotateDoc(b, false)
	}
	if _, err := w.ResponseWriter.Write(out); err != nil {
		return 0, err
	}
	return len(b), nil
}

// event annotates one "data: ...\n\n" event, after the opening chunk on the first one.
func (w *azureWriter) event(b []byte) []byte {
	var out []byte
	if !w.opened {
		w.opened = true
		open := `{"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":` + string(promptFilterResults) + `}`
		out = append(out, "data: "+open+"\n\n"...)
	}
	data, ok := bytes.CutPrefix(b, []byte("data: "))
	if !ok || bytes.HasPrefix(data, []byte("[DONE]")) {
		return append(out, b...)
	}
	data = bytes.TrimRight(data, "\n")
	out = append(out, "data: "...)
	out = append(out, w.annotateDoc(data, true)...)
	return append(out, "\n\n"...)
}

// annotateDoc adds content_filter_results to every choice of a chunk or completion,
// prompt_filter_results to a completion, and the completion filter's finish_reason.
func (w *azureWriter) annotateDoc(doc []byte, chunk bool) []byte {
	if !gjson.ValidBytes(doc) {
		return doc
	}
	if !chunk {
		doc, _ = sjson.SetRawBytes(doc, "prompt_filter_results", promptFilterResults)
	}
	n := len(gjson.GetBytes(doc, "choices").Array())
	for i := range n {
		prefix := "choices." + strconv.Itoa(i) + "."
		finish := gjson.GetBytes(doc, prefix+"finish_reason")
		filtered := w.filterCompletion && finish.Type == gjson.String
		results := contentFilterResults(filtered)
		if chunk && gjson.GetBytes(doc, prefix+"delta.role").Exists() {
			results = "{}"
		}
		doc, _ = sjson.SetRawBytes(doc, prefix+"content_filter_results", []byte(results))
		if filtered {
			doc, _ = sjson.SetBytes(doc, prefix+"finish_reason", "content_filter")
		}
	}
	return doc
}
