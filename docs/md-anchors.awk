# SPDX-License-Identifier: MIT
#
# md-anchors.awk - gives each heading of a Markdown page the anchor GitHub
# gives it ("## The nn command" is #the-nn-command), so that the page's own
# links to its sections work in the Doxygen manual too (Doxyfile:
# FILTER_PATTERNS). Headings inside fenced code blocks are code.
#
# POSIX awk. Usage (what Doxygen runs): awk -f docs/md-anchors.awk README.md

/^```/ { fence = !fence }
!fence && /^#+ / && !/\{#[^}]*\} *$/ {
    slug = $0
    sub(/^#+ +/, "", slug)
    slug = tolower(slug)
    gsub(/[^a-z0-9 _-]/, "", slug)
    gsub(/ /, "-", slug)
    print $0 " {#" slug "}"
    next
}
{ print }
