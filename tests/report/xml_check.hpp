// Well-formedness checks with a real XML parser (libxml2), for the tests of
// everything that writes HTML or SVG.
#pragma once

#include <string>

#include <libxml/parser.h>
#include <libxml/tree.h>

namespace nibble::report::testing {

/// Parses `markup` as XML (no network, no entity loading). Returns "" when it
/// is well-formed, else libxml2's first error message. `text` receives the
/// concatenated text content of the document.
inline std::string xml_errors(const std::string& markup, std::string* text = nullptr) {
  xmlResetLastError();
  xmlDocPtr doc = xmlReadMemory(markup.data(), static_cast<int>(markup.size()), "input.xml", "UTF-8",
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
  if (doc == nullptr) {
    const xmlError* e = xmlGetLastError();
    return e && e->message ? std::string(e->message) + " (line " + std::to_string(e->line) + ")" : "parse failed";
  }
  if (text) {
    xmlChar* content = xmlNodeGetContent(xmlDocGetRootElement(doc));
    *text = content ? reinterpret_cast<const char*>(content) : "";
    xmlFree(content);
  }
  xmlFreeDoc(doc);
  return "";
}

}  // namespace nibble::report::testing
