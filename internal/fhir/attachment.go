package fhir

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"mime"
	"strings"

	fm "github.com/samply/golang-fhir-models/fhir-models/fhir"
)

// pdfType is the only media type accepted for a report.
const pdfType = "application/pdf"

// binaries are the Binary resources of a Bundle by fullUrl, for resolving
// attachment urls; nil outside a Bundle.
type binaries map[string]*binaryEntry

// binaryEntry is one Binary of a Bundle: its content, where it is (path and
// entry index), and whether some attachment points at it, so an orphan can be
// reported.
type binaryEntry struct {
	contentType string
	data        *string
	path        string
	entry       int
	used        bool
}

// payload is where the bytes of one attachment are, once its url (if any)
// has been resolved.
type payload struct {
	contentType, typePath string
	data                  *string
	dataPath              string
	url                   string // an attachment url that did not resolve
}

// delivered reports whether the request itself carries the bytes.
func (pl payload) delivered() bool {
	return pl.data != nil || pl.dataPath != ""
}

// resolve finds the bytes of an attachment: inline data, or the Binary of
// the same Bundle whose fullUrl the attachment's url names.
func resolve(a fm.Attachment, at string, bins binaries, p *problems) payload {
	if a.Data != nil {
		return payload{contentType: text(a.ContentType), typePath: at + ".contentType", data: a.Data, dataPath: at + ".data"}
	}
	url := text(a.Url)
	if url == "" {
		return payload{}
	}
	b := bins[url]
	if b == nil {
		return payload{url: url, contentType: text(a.ContentType)}
	}
	b.used = true
	if declared := text(a.ContentType); declared != "" && b.contentType != "" && mediaType(declared) != mediaType(b.contentType) {
		p.add(at+".contentType", CodeInvalid, "contentType %q differs from %q of the Binary it points to (%s)",
			declared, b.contentType, b.path)
	}
	return payload{contentType: b.contentType, typePath: b.path + ".contentType", data: b.data, dataPath: b.path + ".data"}
}

// documentContent returns the PDF of a DocumentReference, decoded, and its
// attachment's title. It takes the first content that delivers a PDF, so a
// sender may add other renditions (a CDA, say) beside it; when there is
// none, it reports why for every content.
func documentContent(d *fm.DocumentReference, root string, bins binaries, p *problems) ([]byte, *string) {
	if len(d.Content) == 0 {
		p.add(root+".content", CodeRequired, "content is missing: the PDF goes in content[0].attachment.data (base64)")
		return nil, nil
	}
	found := make([]payload, len(d.Content))
	for i, c := range d.Content {
		at := fmt.Sprintf("%s.content[%d].attachment", root, i)
		found[i] = resolve(c.Attachment, at, bins, p)
		if found[i].delivered() && mediaType(found[i].contentType) == pdfType {
			return decodePDF(c.Attachment, at, found[i], p), c.Attachment.Title
		}
	}
	for i, pl := range found {
		at := fmt.Sprintf("%s.content[%d].attachment", root, i)
		switch {
		case pl.url != "" && bins == nil:
			p.add(at+".url", CodeNotSupported, "the attachment has only a url (%s): documents are not fetched from URLs; "+
				"send the PDF inline in attachment.data (base64), or as a Binary in a transaction Bundle whose fullUrl the url names", pl.url)
		case pl.url != "":
			p.add(at+".url", CodeNotFound, "no Binary in this Bundle has fullUrl %s: documents are not fetched from URLs, "+
				"the url must name the fullUrl of a Binary entry of the same Bundle", pl.url)
		case !pl.delivered():
			p.add(at+".data", CodeRequired, "the attachment has neither data nor url: the PDF goes in attachment.data (base64)")
		case pl.contentType == "":
			p.add(pl.typePath, CodeRequired, "contentType is required with data, and must be %s", pdfType)
		default:
			p.unsupported(pl.typePath, pl.contentType)
		}
	}
	return nil, nil
}

// decodePDF decodes the chosen payload and checks it against the size and
// hash the sender declared, which catch a document cut short on the way.
func decodePDF(a fm.Attachment, at string, pl payload, p *problems) []byte {
	if text(pl.data) == "" {
		p.add(pl.dataPath, CodeRequired, "data is missing or empty: it must hold the PDF, base64-encoded")
		return nil
	}
	pdf, err := base64.StdEncoding.DecodeString(stripSpace(*pl.data))
	if err != nil {
		p.add(pl.dataPath, CodeInvalid, "data is not valid base64 (RFC 4648, standard alphabet, with padding): %v", err)
		return nil
	}
	if a.Size != nil && *a.Size != len(pdf) {
		p.add(at+".size", CodeInvalid, "size says %d bytes but data holds %d: the document is incomplete or size is wrong", *a.Size, len(pdf))
	}
	if h := text(a.Hash); h != "" {
		want, err := base64.StdEncoding.DecodeString(h)
		sum := sha1.Sum(pdf)
		switch {
		case err != nil:
			p.add(at+".hash", CodeInvalid, "hash is not valid base64: %v", err)
		case !bytes.Equal(want, sum[:]):
			p.add(at+".hash", CodeInvalid, "hash does not match the SHA-1 of the data: the document is damaged or hash is wrong")
		}
	}
	return pdf
}

// mediaType returns the lower-case media type of a content type without its
// parameters, or the input when it does not parse.
func mediaType(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return contentType
	}
	return mt
}

// stripSpace removes the white space that FHIR's base64Binary allows
// between groups (the spec's own Binary example breaks its data with spaces).
func stripSpace(s string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r':
			return -1
		}
		return r
	}, s)
}
