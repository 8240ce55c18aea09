# SPDX-License-Identifier: MIT
#
# nn-h-man.awk - writes the libnn(3) man page (roff, man macros) from
# include/nn.h, so that the page is the header's manual and cannot fall
# behind it:
#
#   NAME, SYNOPSIS       fixed text here
#   DESCRIPTION          the Overview of nn.h's opening comment
#   CONVENTIONS          its Conventions, one tagged paragraph each
#   one section per ruled comment of nn.h ("/* ----" ... "---- */"), in
#                        the header's order: its text, then each group of
#                        declarations (the code as in the header, then the
#                        comment before it)
#   EXAMPLE              the file given as example= (examples/xor.c)
#   SEE ALSO
#
#   awk -v version=0.2.0 -v example=examples/xor.c -f docs/nn-h-man.awk \
#       include/nn.h > libnn.3
#
# POSIX awk.

# Roff escapes: a backslash prints as \e, and a line must not start with a
# control character.
function esc(s) {
    gsub(/\\/, "\\e", s)
    if (s ~ /^[.']/)
        s = "\\&" s
    return s
}

# Code: as esc, and minus signs as minus signs (so that copied code works).
function code(s) {
    s = esc(s)
    gsub(/-/, "\\-", s)
    return s
}

# One line of comment text (the "<indentation>* " prefix removed). Prose is
# filled; a line indented under a blank line or a line ending in ':' is
# kept as it is (formulas, tables, code); "Term.   text" starts a tagged
# paragraph (the Conventions); "nn_x: text" and "NN_X   text" lines start
# list items.
function text_line(t,    ind, s) {
    if (t ~ /^ *$/) {
        end_pre()
        if (!started)
            return
        print ".PP"
        inlist = 0
        prevblank = 1
        prevcolon = 0
        return
    }
    match(t, /^ */)
    ind = RLENGTH
    s = substr(t, ind + 1)
    if (inpre) {
        if (ind >= 2) {
            print code(substr(t, prebase + 1 < ind + 1 ? prebase + 1 : ind + 1))
            return
        }
        end_pre()
    }
    if (conventions && ind == 0 && match(s, /^[A-Z][A-Za-z]+\. +/)) {
        term = substr(s, 1, RLENGTH)
        sub(/ +$/, "", term)
        print ".TP 10"
        print ".B " esc(term)
        print esc(substr(s, RLENGTH + 1))
        inlist = 1
    } else if (ind == 0 && s ~ /^nn_[a-z0-9_]+(, nn_[a-z0-9_]+)*: /) {
        print ".IP \\(bu 2"
        print esc(s)
        inlist = 1
    } else if (ind >= 2 && match(s, /^NN_[A-Z0-9_]+  +/)) {
        term = substr(s, 1, RLENGTH)
        sub(/ +$/, "", term)
        print ".TP"
        print ".B " esc(term)
        print esc(substr(s, RLENGTH + 1))
        inlist = 1
    } else if (inlist && ind >= 2) {
        print esc(s)
    } else if (ind >= 2 && (prevblank || prevcolon)) {
        if (inlist) {
            print ".RE"
        }
        print ".RS 4"
        print ".nf"
        inpre = 1
        prebase = ind
        print code(s)
    } else {
        if (inlist && ind == 0) {
            print ".PP"
            inlist = 0
        }
        print esc(s)
    }
    started = 1
    prevblank = 0
    prevcolon = (s ~ /:$/)
}

function end_pre() {
    if (inpre) {
        print ".fi"
        print ".RE"
        inpre = 0
    }
}

function end_text() {
    end_pre()
    inlist = 0
    prevblank = 0
    prevcolon = 0
    started = 0
}

# A comment line without its " * " (or "/* " and "*/").
function strip(line) {
    sub(/^ *\/\* ?/, "", line)
    sub(/^ *\* ?/, "", line)
    sub(/ *\*\/ *$/, "", line)
    return line
}

# Prints the block gathered so far: its code, then its comment. The
# export macros are left out of the code (they only mark symbols), and the
# lines that continue a declaration move left with it. A comment whose code
# was all preprocessor lines (the export macros' own) is left out too.
function flush_block(    i, line, shift, pad) {
    if (ncode == 0 && skipped) {
        ncomm = 0
    }
    skipped = 0
    if (ncode > 0) {
        print ".PP"
        print ".nf"
        shift = 0
        for (i = 1; i <= ncode; i++) {
            line = codel[i]
            if (line ~ /^NN_API /) {
                shift = 0
                if (sub(/^NN_API /, "", line))
                    shift += 7
                if (sub(/^NN_NODISCARD /, "", line))
                    shift += 13
            } else if (shift > 0 && line ~ /^ /) {
                pad = substr(line, 1, shift)
                if (pad ~ /^ *$/)
                    line = substr(line, shift + 1)
            }
            print code(line)
        }
        print ".fi"
    }
    if (ncomm > 0) {
        if (ncode > 0)
            print ".RS 4"
        else
            print ".PP"
        end_text()
        started = 1
        for (i = 1; i <= ncomm; i++)
            text_line(comm[i])
        end_text()
        if (ncode > 0)
            print ".RE"
    }
    ncode = 0
    ncomm = 0
}

BEGIN {
    if (version == "")
        version = "unknown"
    print ".\\\" libnn(3), generated from include/nn.h by docs/nn-h-man.awk."
    print ".TH LIBNN 3 \"\" \"libnn " version "\" \"libnn manual\""
    # Code and names are long; ragged right reads better than stretched.
    print ".ad l"
    print ".SH NAME"
    print "libnn \\- feed-forward neural networks trained by backpropagation"
    print ".SH SYNOPSIS"
    print ".nf"
    print ".B #include <nn.h>"
    print ".PP"
    print "cc app.c $(pkg\\-config \\-\\-cflags \\-\\-libs nn)"
    print ".fi"
    state = "start"
}

# The licence line is for the file, not for the manual.
state == "start" && /^\/\* SPDX-License-Identifier/ { next }

# The opening comment: Overview and Conventions.
state == "start" && /^\/\*$/ { state = "file"; next }
state == "file" {
    if ($0 ~ /^ \*\/$/) {
        end_text()
        state = "code"
        next
    }
    if ($0 ~ /^ \* -+$/) {
        rule = !rule
        next
    }
    if (rule) {
        t = strip($0)
        end_text()
        if (t == "Overview") {
            conventions = 0
        } else {
            print ".SH " toupper(t)
            conventions = (t == "Conventions")
        }
        next
    }
    if (!seen_title) {
        # "nn.h - libnn, ..." is said by NAME already.
        seen_title = 1
        print ".SH DESCRIPTION"
        next
    }
    if (!printed_head) {
        if (strip($0) ~ /^ *$/)
            next
        printed_head = 1
    }
    text_line(strip($0))
    next
}

# A ruled comment: a new section.
state == "code" && /^\/\* -+$/ {
    flush_block()
    state = "section"
    nsect = 0
    next
}
state == "section" {
    if ($0 ~ /^ \* -+ \*\/$/) {
        title = sect[1]
        rest = ""
        dot = index(title, ". ")
        if (dot > 0) {
            rest = substr(title, dot + 2)
            title = substr(title, 1, dot - 1)
        }
        sub(/\.$/, "", title)
        print ".SH " esc(toupper(title))
        end_text()
        started = 1
        conventions = 0
        if (rest != "")
            text_line(rest)
        for (i = 2; i <= nsect; i++)
            text_line(sect[i])
        end_text()
        state = "code"
    } else {
        sect[++nsect] = strip($0)
    }
    next
}

# Declarations and their comments, in blocks separated by blank lines.
state == "code" {
    if ($0 ~ /^ *$/) {
        if (!incomment)
            flush_block()
        else
            comm[++ncomm] = ""
        next
    }
    if (incomment) {
        comm[++ncomm] = strip($0)
        if ($0 ~ /\*\//)
            incomment = 0
        next
    }
    # A comment that starts a line documents what follows it; one after
    # code (enum values) stays in the code.
    if ($0 ~ /^\/\* /) {
        if (ncode > 0)
            flush_block()
        comm[++ncomm] = strip($0)
        if ($0 !~ /\*\//)
            incomment = 1
        next
    }
    # The include guard, includes, extern "C" and the export macros are
    # not API.
    if ($0 ~ /^#/ && $0 !~ /^#define NN_VERSION_/) {
        skipped = 1
        next
    }
    if ($0 ~ /^extern "C"|^}$/)
        next
    codel[++ncode] = $0
    next
}

END {
    flush_block()
    print ".SH EXAMPLE"
    print "Learning XOR with a 2\\-4\\-1 network (" esc(example) " in the"
    print "source tree):"
    print ".PP"
    print ".RS 4"
    print ".nf"
    if (example != "") {
        while ((getline line < example) > 0) {
            if (line ~ /SPDX-License-Identifier/)
                continue
            print code(line)
        }
        close(example)
    }
    print ".fi"
    print ".RE"
    print ".PP"
    print "Build it with"
    print ".PP"
    print ".RS 4"
    print ".nf"
    print "cc xor.c $(pkg\\-config \\-\\-cflags \\-\\-libs nn) \\-o xor"
    print ".fi"
    print ".RE"
    print ".SH SEE ALSO"
    print ".BR nn (1),"
    print "the command that trains, evaluates and runs models from the shell."
    print ".PP"
    print "The HTML manual, installed as"
    print ".IR share/doc/libnn/html/index.html ;"
    print "the model file format,"
    print ".IR docs/FORMAT.md ;"
    print "a tutorial,"
    print ".IR docs/TUTORIAL.md ."
}
