# SPDX-License-Identifier: MIT
#
# nn-h-doxygen.awk - shows include/nn.h to Doxygen as documented code,
# without changing the file (Doxyfile: FILTER_PATTERNS). nn.h is written
# as a manual for people and compilers, in plain C89 comments; this filter
# reads its conventions:
#
#   - the opening comment is the file's description; its "----" ruled
#     titles (Overview, Conventions) become headings;
#   - a ruled comment between declarations ("/* ----" ... "---- */")
#     opens a section: a Doxygen member group named by its first line,
#     described by the rest, closed by the next one;
#   - a comment that starts a line documents the declaration after it; a
#     comment after an enum value documents that value; a comment followed
#     by several declarations on consecutive lines documents each of them;
#   - inside comments: "Term.   text" paragraphs (the Conventions),
#     "NN_NAME   text" tables and "nn_name: text" lines are lists; text
#     indented under a blank line or a line ending in ':' is code; a
#     pointer written *name stays as code (not Markdown emphasis).
#
# POSIX awk. Usage (what Doxygen runs): awk -f docs/nn-h-doxygen.awk nn.h

function flush_section(    i, title, rest, dot) {
    # sect[1..nsect]: the text lines of a ruled comment (rules dropped).
    if (group_open)
        print "/** @} */"
    title = sect[1]
    rest = ""
    dot = index(title, ". ")
    if (dot > 0) {
        rest = substr(title, dot + 2)
        title = substr(title, 1, dot - 1)
    }
    sub(/\.$/, "", title)
    print "/** @name " title
    if (rest != "")
        print " *"
    if (rest != "")
        body_line(" * " rest)
    for (i = 2; i <= nsect; i++)
        body_line(sect[i])
    end_body()
    print " */"
    print "/** @{ */"
    group_open = 1
}

# Inline fixes of a line of prose: *name (a C pointer dereference) as code,
# and <NAME> (a placeholder) as text rather than an HTML tag.
function prose(s,    out) {
    out = ""
    while (match(s, /<[A-Za-z_][A-Za-z0-9_]*>/)) {
        out = out substr(s, 1, RSTART - 1) "\\<" \
              substr(s, RSTART + 1, RLENGTH - 2) "\\>"
        s = substr(s, RSTART + RLENGTH)
    }
    s = out s
    out = ""
    while (match(s, /(^|[ (])\*[A-Za-z_][A-Za-z0-9_]*/)) {
        if (substr(s, RSTART, 1) == "*") {
            out = out substr(s, 1, RSTART - 1) "`" substr(s, RSTART, RLENGTH) "`"
        } else {
            out = out substr(s, 1, RSTART) "`" substr(s, RSTART + 1, RLENGTH - 1) "`"
        }
        s = substr(s, RSTART + RLENGTH)
    }
    return out s
}

function indent_of(s) {
    match(s, /^ */)
    return RLENGTH
}

# One line of a comment's body, given with its " * " prefix. Keeps track of
# code blocks and lists across lines (state: incode, inlist, prevblank,
# prevcolon).
function body_line(line,    lead, text, ind, t) {
    # Split "<indentation>* <text>" (the "*" column may be indented, as in
    # enums); a line without the star is taken whole.
    if (match(line, /^ *\* ?/)) {
        lead = substr(line, 1, RLENGTH)
        text = substr(line, RLENGTH + 1)
        sub(/ ?$/, " ", lead)
    } else {
        lead = ""
        text = line
    }
    if (text ~ /^ *$/) {
        print lead
        prevblank = 1
        prevcolon = 0
        inlist = 0
        return
    }
    ind = indent_of(text)
    t = substr(text, ind + 1)

    if (incode) {
        if (ind >= 2) {
            if (ind >= codebase)
                print lead "    " substr(text, codebase + 1)
            else
                print lead "    " t
            prevblank = 0
            return
        }
        incode = 0
    }
    # The Conventions: "Status.   Every call ..." with aligned continuations.
    if (ind == 0 && incomment == 2 && match(t, /^[A-Z][A-Za-z]+\. +/)) {
        term = substr(t, 1, RLENGTH)
        sub(/ +$/, "", term)
        print lead "- **" term "** " prose(substr(t, RLENGTH + 1))
        inlist = 1
    # NN_SAVE_MODEL     text   (a table of enum values)
    } else if (ind >= 2 && match(t, /^NN_[A-Z0-9_]+  +/)) {
        term = substr(t, 1, RLENGTH)
        sub(/ +$/, "", term)
        print lead "- " term ": " prose(substr(t, RLENGTH + 1))
        inlist = 1
    # nn_a, nn_b: text   (one entry per function)
    } else if (ind == 0 &&
               t ~ /^nn_[a-z0-9_]+(, nn_[a-z0-9_]+)*: /) {
        print lead "- " prose(t)
        inlist = 1
    } else if (inlist && ind >= 2) {
        print lead "  " prose(t)
    } else if (ind >= 2 && (prevblank || prevcolon)) {
        # Formulas and examples: a code block, which Markdown wants after a
        # blank line and indented by four.
        if (!prevblank)
            print lead
        print lead "    " t
        incode = 1
        codebase = ind
        inlist = 0
    } else {
        print lead prose(text)
        inlist = 0
    }
    prevblank = 0
    prevcolon = (t ~ /:$/)
}

function end_body() {
    incode = 0
    inlist = 0
    prevblank = 0
    prevcolon = 0
}

# A line of a comment: the first (after its "/* ", with opener the text to
# print before it) or a later one, up to "*/".
function comment_text(line, first, opener,    closes, body) {
    closes = (index(line, "*/") > 0)
    body = line
    if (closes)
        sub(/ *\*\/ *$/, "", body)
    if (first) {
        printf "%s", opener prose(body)
        prevblank = 0
        prevcolon = (body ~ /:$/)
        if (closes) {
            print " */"
        } else {
            print ""
        }
    } else if (incomment == 3) {
        # The continuation of a comment after an enum value.
        sub(/^ */, "", body)
        if (closes)
            print "    " prose(body) " */"
        else
            print "    " prose(body)
    } else {
        body_line(body)
        if (closes)
            print " */"
    }
    if (closes) {
        end_body()
        incomment = 0
    }
}

BEGIN {
    incomment = 0; insection = 0; group_open = 0; seen_file_comment = 0
    groupfirst = ""
}

# The licence line is for the file, not for the manual.
!incomment && /^\/\* SPDX-License-Identifier: [^ ]* \*\/$/ {
    print ""
    next
}

# Inside the opening comment: ruled titles become headings.
incomment == 2 {
    if ($0 ~ /^ \* -+$/) {
        ruled = !ruled
        print " *"
        next
    }
    if (ruled) {
        t = $0
        sub(/^ \* /, "", t)
        print " * @section " tolower(t) " " t
        next
    }
    comment_text($0, 0)
    next
}

# Inside a ruled (section) comment: collect until its closing rule.
insection {
    if ($0 ~ /^ \* -+ \*\/$/) {
        flush_section()
        insection = 0
        groupfirst = ""
    } else {
        nsect++
        sect[nsect] = $0
        if (nsect == 1)
            sub(/^ \* /, "", sect[1])
    }
    next
}

# Inside a documenting comment.
incomment == 1 || incomment == 3 {
    comment_text($0, 0)
    next
}

# The opening comment.
!seen_file_comment && /^\/\*$/ {
    seen_file_comment = 1
    incomment = 2
    ruled = 0
    print "/** @file"
    next
}

# A ruled comment: a section.
/^\/\* -+$/ {
    insection = 1
    nsect = 0
    next
}

# The end of the API: close the last section.
/^#ifdef __cplusplus/ && group_open {
    print "/** @} */"
    group_open = 0
}

# A comment that starts a line (possibly indented, inside an enum).
/^ *\/\* / {
    match($0, /^ *\/\* /)
    incomment = 1
    groupfirst = ""
    comment_text(substr($0, RLENGTH + 1), 1, substr($0, 1, RLENGTH - 3) "/** ")
    next
}

# An enum value with a comment after it.
/^ +[A-Z][A-Z0-9_]* = [0-9]+,? *\/\* / {
    match($0, /\/\* /)
    incomment = 3
    comment_text(substr($0, RSTART + 3), 1, substr($0, 1, RSTART - 1) "/**< ")
    next
}

# A blank line ends a group of declarations that share one comment.
/^ *$/ {
    groupfirst = ""
    print
    next
}

# Macros after the first of a group get its documentation.
/^#define NN_[A-Z0-9_]+/ {
    match($0, /NN_[A-Z0-9_]+/)
    name = substr($0, RSTART, RLENGTH)
    if (groupfirst == "")
        groupfirst = name
    else
        printf "/** @copydoc %s */\n", groupfirst
    print
    next
}

# Declarations after the first of a group get its documentation.
/^NN_API / {
    if (match($0, /nn_[a-z0-9_]+ *\(/)) {
        name = substr($0, RSTART, RLENGTH)
        sub(/ *\($/, "", name)
        if (groupfirst == "")
            groupfirst = name
        else
            printf "/** @copydoc %s */ ", groupfirst
    }
    print
    next
}

{ print }
