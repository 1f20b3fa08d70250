package fhir

import (
	"fmt"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// bundleIn is the incoming Bundle: the model, with type and request.method
// read as plain strings (the model turns a missing type into "document" and a
// missing method into GET).
type bundleIn struct {
	fm.Bundle
	Type  *string   `json:"type"`
	Entry []entryIn `json:"entry"`
}

type entryIn struct {
	fm.BundleEntry
	Request *struct {
		Method *string `json:"method"`
	} `json:"request"`
}

// ParseBundle reads a transaction (or batch) Bundle of reports and returns
// one Report per DocumentReference, in Bundle order. A DocumentReference
// carries its PDF inline, or its attachment.url names the fullUrl (such as
// "urn:uuid:...") of a Binary entry of the same Bundle, whose contentType and
// data are then the document. The rules of ParseDocumentReference apply to
// each DocumentReference.
//
// The Bundle is taken or refused as a whole, batch included: the only
// entries accepted are DocumentReference and Binary, with request method POST
// or PUT (or none); every Binary must be used by some attachment, and no two
// DocumentReferences may have the same report id. The error is an
// *UnsupportedContentType or an *Invalid as for ParseDocumentReference, with
// paths such as "Bundle.entry[1].resource.content[0].attachment.url".
func ParseBundle(body []byte) ([]Report, error) {
	var p problems
	reports := parseBundle(body, &p)
	if err := p.err(); err != nil {
		return nil, fmt.Errorf("parse Bundle: %w", err)
	}
	return reports, nil
}

func parseBundle(body []byte, p *problems) []Report {
	if !resourceType(body, "Bundle", p) {
		return nil
	}
	var in bundleIn
	if is, ok := decode(body, &in, "Bundle"); !ok {
		p.addIssue(is)
		return nil
	}
	switch bt := text(in.Type); bt {
	case "transaction", "batch":
	case "":
		p.add("Bundle.type", CodeRequired, "type is required: send a transaction Bundle")
	default:
		p.add("Bundle.type", CodeNotSupported, "Bundle type %q is not accepted: send a transaction Bundle", bt)
	}
	if len(in.Entry) == 0 {
		p.add("Bundle.entry", CodeRequired, "the Bundle has no entries: send one DocumentReference per report")
		return nil
	}
	docs, bins := sortEntries(in.Entry, p)
	if len(docs) == 0 {
		p.add("Bundle.entry", CodeRequired, "the Bundle has no DocumentReference: send one per report")
	}
	var reports []Report
	seen := map[string]int{}
	for _, j := range docs {
		root := fmt.Sprintf("Bundle.entry[%d].resource", j)
		r := parseDocumentReference(in.Entry[j].Resource, root, bins, p, false)
		if r.ReportID != "" {
			if first, dup := seen[r.ReportID]; dup {
				p.add(root, CodeDuplicate, "report id %q is also the id of Bundle.entry[%d]: each report is sent once", r.ReportID, first)
			}
			seen[r.ReportID] = j
		}
		reports = append(reports, r)
	}
	for j, e := range in.Entry {
		if b := bins[text(e.FullUrl)]; b != nil && b.entry == j && !b.used {
			p.add(fmt.Sprintf("Bundle.entry[%d]", j), CodeInvalid,
				"this Binary is not the attachment of any DocumentReference: its fullUrl must be a DocumentReference's content.attachment.url")
		}
	}
	return reports
}

// sortEntries checks every entry's request and resource type, and returns
// the indexes of the DocumentReferences and the Binaries by fullUrl.
func sortEntries(entries []entryIn, p *problems) ([]int, binaries) {
	var docs []int
	bins := binaries{}
	fullURLs := map[string]int{}
	for j, e := range entries {
		at := fmt.Sprintf("Bundle.entry[%d]", j)
		if e.Request != nil {
			switch m := text(e.Request.Method); m {
			case "POST", "PUT":
			case "":
				p.add(at+".request.method", CodeRequired, "request.method is required: reports are sent with POST")
			default:
				p.add(at+".request.method", CodeNotSupported, "request method %q is not accepted: reports are sent with POST (or PUT)", m)
			}
		}
		if url := text(e.FullUrl); url != "" {
			if first, dup := fullURLs[url]; dup {
				p.add(at+".fullUrl", CodeDuplicate, "fullUrl %s is also the fullUrl of Bundle.entry[%d]", url, first)
				continue
			}
			fullURLs[url] = j
		}
		if len(e.Resource) == 0 {
			p.add(at+".resource", CodeRequired, "the entry has no resource")
			continue
		}
		var head struct {
			ResourceType string `json:"resourceType"`
		}
		if is, ok := decode(e.Resource, &head, at+".resource"); !ok {
			p.addIssue(is)
			continue
		}
		switch head.ResourceType {
		case "DocumentReference":
			docs = append(docs, j)
		case "Binary":
			addBinary(bins, e, j, p)
		case "":
			p.add(at+".resource.resourceType", CodeRequired, "resourceType is missing: entries are DocumentReference or Binary")
		default:
			p.add(at+".resource", CodeNotSupported, "%s entries are not accepted: a Bundle of reports holds DocumentReference and Binary entries only",
				head.ResourceType)
		}
	}
	return docs, bins
}

// addBinary records a Binary entry under its fullUrl.
func addBinary(bins binaries, e entryIn, j int, p *problems) {
	at := fmt.Sprintf("Bundle.entry[%d]", j)
	var b fm.Binary
	if is, ok := decode(e.Resource, &b, at+".resource"); !ok {
		p.addIssue(is)
		return
	}
	url := text(e.FullUrl)
	if url == "" {
		p.add(at+".fullUrl", CodeRequired, "a Binary needs a fullUrl (such as urn:uuid:...) for a DocumentReference's attachment.url to name it")
		return
	}
	bins[url] = &binaryEntry{contentType: text(&b.ContentType), data: b.Data, path: at + ".resource", entry: j}
}
