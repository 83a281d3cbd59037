#!/bin/sh
#
# check-diagnostics.sh - every message sendwrap can print or log is
# listed in DIAGNOSTICS, and every listed one can be printed; every
# outcome word and field it logs is in LOGGING; every SMTP reply it
# sends is under "SMTP replies"; and the -q decision lines are those
# that -q's entry shows.
#
# The code side is read from the C sources themselves, after the
# preprocessor (so comments are gone and string macros are expanded):
#
#   messages  the format strings given to config_error(), logmsg(),
#             fprintf(stderr, ...), printf(), problem(),
#             al_scan_problem() and give_up(), to snprintf() into a
#             message buffer (msg, why or sub), and the string constants
#             assigned to a peer's "what" or the listener's "broken"
#             reason (those with a space: one word is a stdin kind);
#   outcomes  the words given to line_begin(), begin_line(), end_with()
#             and refuse(), or assigned to "word", and a logmsg() format
#             written as "WORD reason=\"...\"" (whose reason is a message);
#   fields    the "name=" in the formats given to line_add(), refuse()
#             and end_with() or written to "field", and the names given
#             to line_seconds() and line_value();
#   replies   every string constant that starts with an SMTP code and an
#             enhanced code ("421 4.3.0"), and the texts given to reply()
#             and refuse().
#
# Each printf conversion becomes a placeholder, written "%" below, and a
# leading "sendwrap: " is dropped.  A message that puts another
# function's message in its own ("-d: %s", msg after al_delay_parse(...,
# msg, ...)) is composed: the placeholder is filled with each message of
# the function that last wrote that buffer, and that function's messages
# then count only as composed ("-d: delay ...", "-w: delay ...").  What
# is left with no word of three letters ("%s: %s", "-A:%lu: ") is a frame
# that only carries other messages, and is not a message.
#
# The page side is the head of each .It in the DIAGNOSTICS sections of
# both pages, with .Ar text as the placeholder; only .Li, .Ar, .Ns and .No
# may be used there, so that what the check reads is what a reader sees.
# A page entry matches a code message when it is the message with each
# placeholder replaced by some text (or a placeholder): "-C needs a pass
# cache directory (-c dir)" matches "-%c needs a pass cache directory
# (-c dir)".  Each page entry counts for the most specific message it
# matches, so that "cannot run PROGRAM: ERROR" must be listed for itself
# and is not taken as said by "cannot run PROGRAM: its #! line names no
# interpreter".  A message is listed once in the two pages, even where
# two parts of sendwrap print it, and with a placeholder for what varies:
# "-X needs a pass cache directory (-c dir)", not an entry for -C and
# another for -P, so that neither can go missing unseen.
#
# Set aside, and named here only (each must still be in the code, so
# the list cannot go stale):
#   - "sendwrap %", the version line of -V, documented there;
#   - "not open" and "cannot name the peer's entry" (passcache.c): a
#     closed cache is never asked, and the key of an address always
#     fits, so neither can be printed.
#
# Usage: tests/check-diagnostics.sh [srcdir [sendwrap.8 [sendwrap.allow.5]]]
# Prints one "# " line per finding and a summary; exits 1 on any finding.

src=${1:-.}
man=${2:-$src/sendwrap.8}
fmt=${3:-$src/sendwrap.allow.5}
LC_ALL=C
export LC_ALL
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-diagnostics.XXXXXX") || exit 1
trap '[ -n "$KEEP" ] || rm -rf "$tmp"' EXIT

# The set-aside messages: "TEXT<TAB>why", TEXT as normalised.
printf '%s\t%s\n' \
    'sendwrap %' 'the version line of -V' \
    'not open' 'unreachable: a closed pass cache is never asked' \
    "cannot name the peer's entry" 'unreachable: every key fits' \
    >"$tmp/aside"

# ---- the code ----

# Each C file after the preprocessor, its own lines only, as
# "LINE<TAB>text"; the line numbers come from the line markers.
: >"$tmp/code"
for c in "$src"/*.c; do
	base=${c##*/}
	if ! ${CC:-cc} -E -D_GNU_SOURCE -DSENDWRAP_VERSION='"0"' -I"$src" \
	    "$c" >"$tmp/pp" 2>"$tmp/pp.err"; then
		echo "# cannot preprocess $c:"
		sed 's/^/#   /' "$tmp/pp.err"
		exit 1
	fi
	awk -v want="$base" '
	/^# [0-9]+ "/ {
		f = $3
		gsub(/"/, "", f)
		sub(/.*\//, "", f)
		n = $2 - 1
		next
	}
	{ n++ }
	f == want { print want ":" n "\t" $0 }' "$tmp/pp" >>"$tmp/code"
done

# Tokens, then calls: the records described at the top, one a line:
# "KIND<TAB>FUNCTION<TAB>FILE:LINE<TAB>TEXT".  KIND is msg, outcome,
# field, qword, qfield (the -q line of check_config()), code or text.
# A message placeholder that another function's message fills is
# written %{function}.
# shellcheck disable=SC2016
extract_awk='
# A string constant right after another is one with it, as in C.
function add(t, y, w) {
	if (y == "s" && nt > 0 && typ[nt - 1] == "s") {
		tok[nt - 1] = tok[nt - 1] t
		return
	}
	tok[nt] = t; typ[nt] = y; where[nt] = w; nt++
}
function tokenize(s, w,   m) {
	while (length(s) > 0) {
		if (match(s, /^[ \t]+/)) { s = substr(s, RLENGTH + 1); continue }
		if (match(s, /^"([^"\\]|\\.)*"/))
			add(substr(s, 2, RLENGTH - 2), "s", w)
		else if (match(s, /^\047([^\047\\]|\\.)*\047/))
			add(substr(s, 1, RLENGTH), "c", w)
		else if (match(s, /^[A-Za-z_][A-Za-z0-9_]*/))
			add(substr(s, 1, RLENGTH), "i", w)
		else if (match(s, /^[0-9][A-Za-z0-9_.]*/))
			add(substr(s, 1, RLENGTH), "n", w)
		else if (match(s, /^(->|\+\+|--|<<=|>>=|<<|>>|<=|>=|==|!=|&&|\|\||[-+*\/%&|^]=)/))
			add(substr(s, 1, RLENGTH), "p", w)
		else {
			RLENGTH = 1
			add(substr(s, 1, 1), "p", w)
		}
		s = substr(s, RLENGTH + 1)
	}
}
# C escapes to text; a trailing newline goes.
function unescape(s,   out, c, i) {
	out = ""
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\\" && i < length(s)) {
			c = substr(s, ++i, 1)
			if (c == "n") c = "\n"
			else if (c == "t") c = "\t"
			else if (c == "r") c = "\r"
		}
		out = out c
	}
	sub(/\n$/, "", out)
	return out
}
# Arguments of the call whose "(" is at token i: a[k] = "first last"
# token indexes; returns the count, and the index of ")" in close_at.
function args(i, a,   d, k, j, first) {
	d = 0; k = 0; first = i + 1
	for (j = i; j < nt; j++) {
		if (tok[j] == "(" || tok[j] == "[" || tok[j] == "{") d++
		else if (tok[j] == ")" || tok[j] == "]" || tok[j] == "}") {
			d--
			if (d == 0) {
				if (j > first) a[k++] = first " " (j - 1)
				close_at = j
				return k
			}
		} else if (tok[j] == "," && d == 1) {
			a[k++] = first " " (j - 1)
			first = j + 1
		}
	}
	close_at = nt
	return k
}
# The string constants of an argument, each run of adjacent ones joined:
# alt[1..n], at lines altw[1..n].
function strings(range, alt, altw,   r, j, n, inrun) {
	split(range, r, " ")
	n = 0; inrun = 0
	for (j = r[1] + 0; j <= r[2] + 0; j++) {
		if (typ[j] == "s") {
			if (!inrun) { n++; alt[n] = ""; altw[n] = where[j] }
			alt[n] = alt[n] tok[j]
			inrun = 1
		} else
			inrun = 0
	}
	return n
}
# An argument that is one identifier: its name, or "".
function bare(range,   r) {
	split(range, r, " ")
	return r[1] == r[2] && typ[r[1]] == "i" ? tok[r[1]] : ""
}
function text(range,   r, j, s) {
	split(range, r, " ")
	s = ""
	for (j = r[1] + 0; j <= r[2] + 0; j++)
		s = s tok[j]
	return s
}
function emit(kind, w, t) {
	printf "%s\t%s\t%s\t%s\n", kind, fname, w, t
}
# A format: conversions become placeholders, those whose argument is a
# message buffer %{the function that last wrote it}.
function format(f, a, na, first,   out, i, c, spec, argi, var, src) {
	f = unescape(f)
	out = ""; argi = first
	for (i = 1; i <= length(f); i++) {
		c = substr(f, i, 1)
		if (c != "%") { out = out c; continue }
		if (substr(f, i + 1, 1) == "%") { out = out "%"; i++; continue }
		spec = substr(f, i + 1)
		match(spec, /^[-#0 +]*([0-9]+|\*)?(\.([0-9]+|\*))?(hh|h|ll|l|z|j|t|L)?[diouxXcspfeEgGa]/)
		if (RSTART != 1) { out = out c; continue }
		spec = substr(spec, 1, RLENGTH)
		i += RLENGTH
		if (spec ~ /^[^.]*\*/) argi++
		if (spec ~ /\.\*/) argi++
		var = argi < na ? bare(a[argi]) : ""
		argi++
		src = (var in msgbuf) && (var in lastcall) ? lastcall[var] : ""
		if (substr(spec, length(spec)) == "s" && src != "" && src != fname)
			out = out "%{" src "}"
		else
			out = out "%"
	}
	return out
}
function outcome_kind() { return fname == "check_config" ? "qword" : "outcome" }
function field_kind() { return fname == "check_config" ? "qfield" : "field" }
function fields(s, w,   m) {
	s = unescape(s)
	while (match(s, /(^| )[a-z_]+=/)) {
		m = substr(s, RSTART, RLENGTH)
		sub(/^ /, "", m)
		sub(/=$/, "", m)
		emit(field_kind(), w, m)
		s = substr(s, RSTART + RLENGTH)
	}
}
# Each string constant of argument k as a message, an outcome, ...
function each(kind, a, n, k,   alt, altw, m, j) {
	if (k >= n)
		return
	m = strings(a[k], alt, altw)
	for (j = 1; j <= m; j++) {
		if (kind == "msg")
			emit("msg", altw[j], format(alt[j], a, n, k + 1))
		else if (kind == "outcome")
			emit(outcome_kind(), altw[j], unescape(alt[j]))
		else if (kind == "fields")
			fields(alt[j], altw[j])
		else if (kind == "fieldname")
			emit(field_kind(), altw[j], unescape(alt[j]))
		else if (kind == "text")
			emit("text", altw[j], unescape(alt[j]))
	}
}
{
	w = $1
	sub(/^[^\t]*\t/, "")
	tokenize($0, w)
}
END {
	split("msg why sub", b, " ")
	for (k in b) msgbuf[b[k]] = 1
	split("config_error logmsg fprintf printf problem al_scan_problem " \
	    "snprintf vsnprintf give_up line_begin begin_line end_with " \
	    "refuse line_add line_seconds line_value reply", b, " ")
	for (k in b) sink[b[k]] = 1
	split("if while for switch return sizeof do else", b, " ")
	for (k in b) keyword[b[k]] = 1
	depth = 0; fname = ""; cand = ""
	for (i = 0; i < nt; i++) {
		t = tok[i]
		if (typ[i] == "s" && match(unescape(t), /^[245][0-9][0-9] [245]\.[0-9]+\.[0-9]+/)) {
			s = unescape(t)
			emit("code", where[i], substr(s, 1, RLENGTH))
			s = substr(s, RLENGTH + 2)
			sub(/\r$/, "", s)
			if (s != "")
				emit("text", where[i], s)
		}
		if (t == "{") { if (depth++ == 0) { fname = cand; delete lastcall } continue }
		if (t == "}") { depth--; continue }
		if (typ[i] != "i") continue
		# "what = ...;", "broken = ...;", "word = ...;"
		if (tok[i + 1] == "=" && (t == "what" || t == "broken" || t == "word")) {
			for (j = i + 2; j < nt && tok[j] != ";"; j++) {
				if (typ[j] != "s") continue
				if (t == "word")
					emit(outcome_kind(), where[j], unescape(tok[j]))
				else if (index(tok[j], " ") > 0)
					emit("msg", where[j], format(tok[j], a, 0, 0))
			}
			continue
		}
		if (tok[i + 1] != "(" || (t in keyword))
			continue
		if (depth == 0) { cand = t; continue }
		delete a
		n = args(i + 1, a)
		if (t == "config_error" || t == "logmsg" || t == "give_up" ||
		    t == "al_scan_problem") {
			k = t == "al_scan_problem" ? 2 : 1
			if (t == "logmsg" && k < n && strings(a[k], alt, altw) == 1 &&
			    match(unescape(alt[1]), /^[a-z]+ reason=".*"$/)) {
				s = unescape(alt[1])
				emit(outcome_kind(), altw[1], substr(s, 1, index(s, " ") - 1))
				s = substr(s, index(s, "\"") + 1)
				sub(/"$/, "", s)
				gsub(/\\"/, "\"", s)
				emit("msg", altw[1], format(s, a, n, k + 1))
			} else
				each("msg", a, n, k)
		} else if (t == "fprintf" && n > 1 && bare(a[0]) == "stderr")
			each("msg", a, n, 1)
		else if (t == "printf")
			each("msg", a, n, 0)
		else if (t == "problem") {
			for (k = 1; k < n && strings(a[k], alt, altw) == 0; k++)
				;
			each("msg", a, n, k)
		} else if ((t == "snprintf") && n > 2) {
			if (bare(a[0]) in msgbuf)
				each("msg", a, n, 2)
			else if (bare(a[0]) == "field")
				each("fields", a, n, 2)
		} else if (t == "line_begin" || t == "begin_line" || t == "end_with")
			each("outcome", a, n, 1)
		else if (t == "refuse") {
			each("outcome", a, n, 2)
			each("fields", a, n, 3)
			each("text", a, n, 5)
		}
		if (t == "line_add" || t == "end_with")
			each("fields", a, n, (t == "end_with") + 1)
		else if (t == "line_seconds" || t == "line_value")
			each("fieldname", a, n, 1)
		else if (t == "reply")
			each("text", a, n, 2)
		# Which function last wrote each buffer, for the calls that
		# follow; a buffer that a sink wrote or read holds nothing more.
		for (k = 0; k < n; k++)
			if ((v = bare(a[k])) != "")
				lastcall[v] = (t in sink) ? "" : t
	}
}'
awk "$extract_awk" "$tmp/code" >"$tmp/records"

# Compose the messages, drop frames and the set-aside ones: one message
# a line, "TEXT<TAB>FILE:LINE", in $tmp/messages.
# shellcheck disable=SC2016
compose_awk='
BEGIN { FS = "\t" }
FILENAME == aside { aside_why[$1] = $2; next }
$1 == "msg" {
	n++
	fn[n] = $2; at[n] = $3; txt[n] = $4
	if ($4 ~ /%\{/) {
		s = $4
		while (match(s, /%\{[A-Za-z_0-9]+\}/)) {
			consumed[substr(s, RSTART + 2, RLENGTH - 3)] = 1
			s = substr(s, RSTART + RLENGTH)
		}
	}
}
function expand(t, w, depth,   m, f, i, out, pre, post) {
	if (!match(t, /%\{[A-Za-z_0-9]+\}/)) {
		out_n++
		out_t[out_n] = t
		out_w[out_n] = w
		return
	}
	f = substr(t, RSTART + 2, RLENGTH - 3)
	pre = substr(t, 1, RSTART - 1)
	post = substr(t, RSTART + RLENGTH)
	m = 0
	for (i = 1; i <= n; i++)
		if (fn[i] == f && depth < 4) {
			m++
			expand(pre txt[i] post, at[i], depth + 1)
		}
	if (m == 0)
		expand(pre "%" post, w, depth + 1)
}
function norm(t) {
	gsub(/[ \t]+/, " ", t)
	gsub(/%%+/, "%", t)
	sub(/^sendwrap: /, "", t)
	return t
}
END {
	for (i = 1; i <= n; i++) {
		if (fn[i] in consumed)
			continue
		out_n = 0
		expand(txt[i], at[i], 0)
		for (j = 1; j <= out_n; j++) {
			t = norm(out_t[j])
			w = t
			gsub(/%/, "", w)
			if (w !~ /[A-Za-z][A-Za-z][A-Za-z]/)
				continue
			if (t in aside_why) {
				seen_aside[t] = 1
				continue
			}
			if (!(t in done)) {
				done[t] = 1
				print t "\t" out_w[j]
			}
		}
	}
	for (t in aside_why)
		if (!(t in seen_aside))
			print "stale\t" t > "/dev/stderr"
}'
awk -v aside="$tmp/aside" "$compose_awk" "$tmp/aside" "$tmp/records" \
    >"$tmp/messages" 2>"$tmp/stale"

# ---- the pages ----

# The head of each .It in SECTION (and, if given, subsection SUB) of a
# page, as text: "TEXT<TAB>PAGE:LINE", .Ar as "%".  A head that uses other
# markup is reported as "!<TAB>PAGE:LINE<TAB>MACRO".
# shellcheck disable=SC2016
heads_awk='
BEGIN {
	# The macros mdoc calls on a line; any other word is text.
	split("Ac Ad An Ao Ap Aq Ar At Bc Bo Bq Brc Bro Brq Bsx Bx Cd Cm " \
	    "Dc Do Dq Dv Dx Ec Em En Eo Er Es Ev Fa Fc Fl Fn Fo Fr Ft Fx " \
	    "Ic In Li Lk Ms Mt Nm No Ns Nx Oc Oo Op Ox Pa Pc Pf Po Pq Qc " \
	    "Ql Qo Qq Sc So Sq St Sx Sy Ta Tn Ux Va Vt Xc Xo Xr", m, " ")
	for (i in m)
		macro[m[i]] = 1
}
function word_of(w) {
	gsub(/\\\(dq/, "\"", w)
	gsub(/\\\(aq/, "\047", w)
	gsub(/\\&/, "", w)
	gsub(/\\-/, "-", w)
	gsub(/\\e/, "\\", w)
	return w
}
/^\.Sh / { sec = substr($0, 5); ss = ""; next }
/^\.Ss / { ss = substr($0, 5); next }
sec == want && (wsub == "" || ss == wsub) && /^\.It / {
	line = substr($0, 5)
	# Split into arguments, a quoted one whole.
	n = 0
	while (length(line) > 0) {
		if (match(line, /^[ \t]+/)) { line = substr(line, RLENGTH + 1); continue }
		if (substr(line, 1, 1) == "\"") {
			match(line, /^"[^"]*"/)
			arg[++n] = substr(line, 2, RLENGTH - 2)
			quoted[n] = 1
		} else {
			match(line, /^[^ \t]+/)
			arg[++n] = substr(line, 1, RLENGTH)
			quoted[n] = 0
		}
		line = substr(line, RLENGTH + 1)
	}
	out = ""; mode = ""; glue = 1; bad = ""
	for (k = 1; k <= n; k++) {
		a = arg[k]
		if (!quoted[k] && (a in macro)) {
			if (a == "Ns") { glue = 1; continue }
			if (a == "Li" || a == "No") { mode = "text"; continue }
			if (a == "Ar") { mode = "ar"; lastar = 0; continue }
			# Elsewhere than in DIAGNOSTICS, other markup is
			# left out: only the words count there.
			if (!strict) { mode = "text"; continue }
			bad = a
			break
		}
		if (!quoted[k] && a ~ /\\[^&e(-]/) { bad = a; break }
		# mdoc sets a lone delimiter against the word before or after.
		closing = !quoted[k] && a ~ /^[.,:;)\]?!]$/
		opening = !quoted[k] && a ~ /^[(\[]$/
		if (mode == "ar" && !closing && !opening) {
			if (lastar) continue
			a = "%"
			lastar = 1
		} else
			a = word_of(a)
		if (!glue && !closing)
			out = out " "
		out = out a
		glue = opening
	}
	if (bad != "")
		print "!\t" FILENAME ":" FNR "\t" bad
	else if (out != "")
		print out "\t" FILENAME ":" FNR
}'

heads() {	# PAGE SECTION [SUBSECTION]: DIAGNOSTICS is read strictly
	strict=0
	[ "$2" = DIAGNOSTICS ] && strict=1
	awk -v want="$2" -v wsub="${3:-}" -v strict="$strict" "$heads_awk" "$1"
}

: >"$tmp/entries"
for page in "$man" "$fmt"; do
	heads "$page" DIAGNOSTICS >>"$tmp/entries"
done

findings=0
finding() {
	findings=$((findings + 1))
	echo "# $*"
}

# Markup the check cannot read.
grep '^!	' "$tmp/entries" | while IFS='	' read -r _ at macro; do
	echo "# $at: DIAGNOSTICS entry uses .$macro; use .Li, .Ar, .Ns and .No only"
done >"$tmp/badmarkup"
if [ -s "$tmp/badmarkup" ]; then
	cat "$tmp/badmarkup"
	findings=$((findings + $(wc -l <"$tmp/badmarkup")))
fi
grep -v '^!	' "$tmp/entries" >"$tmp/entries.ok"

# ---- messages against entries ----

# shellcheck disable=SC2016
match_awk='
BEGIN { FS = "\t" }
# Does page text d match code message c, each "%" in c standing for some
# text?  Returns the length of c without its placeholders, or -1.
function fits(c, d,   nparts, part, i, pos, p) {
	nparts = split(c, part, "%")
	if (nparts == 1)
		return c == d ? length(c) : -1
	# pos: the characters of d used so far; each "%" takes one or more.
	if (substr(d, 1, length(part[1])) != part[1])
		return -1
	pos = length(part[1])
	for (i = 2; i < nparts; i++) {
		if (part[i] == "") {
			pos++
			continue
		}
		p = index(substr(d, pos + 2), part[i])
		if (p == 0)
			return -1
		pos += p + length(part[i])
	}
	p = part[nparts]
	if (length(d) - length(p) < pos + 1 ||
	    substr(d, length(d) - length(p) + 1) != p)
		return -1
	return length(c) - (nparts - 1)
}
FILENAME == msgfile { code[++nc] = $1; cat[nc] = $2; next }
{
	if ($1 in listed) {
		print "twice\t" $2 "\t" $1 "\t" listed[$1]
		next
	}
	listed[$1] = $2
	best = 0; bestlen = -1
	for (i = 1; i <= nc; i++) {
		l = fits(code[i], $1)
		if (l > bestlen) { bestlen = l; best = i }
	}
	if (best == 0)
		print "nocode\t" $2 "\t" $1
	else if (best in covered)
		print "same\t" $2 "\t" $1 "\t" covered[best]
	else
		covered[best] = $2
}
END {
	for (i = 1; i <= nc; i++)
		if (!(i in covered))
			print "nopage\t" cat[i] "\t" code[i]
}'
awk -v msgfile="$tmp/messages" "$match_awk" "$tmp/messages" \
    "$tmp/entries.ok" >"$tmp/found"
while IFS='	' read -r what at text other; do
	case $what in
	twice)	finding "$at: listed twice (first at $other): $text" ;;
	nocode)	finding "$at: in DIAGNOSTICS, but sendwrap never prints it: $text" ;;
	same)	finding "$at: listed twice (first at $other), with other values: $text" ;;
	nopage)	finding "$at: sendwrap prints it, but DIAGNOSTICS does not list it: $text" ;;
	esac
done <"$tmp/found"
while IFS='	' read -r _ text; do
	finding "set aside in this script, but no longer in the code: $text"
done <"$tmp/stale"

# ---- outcomes and fields against LOGGING, -q, replies ----

# both CODEFILE PAGEFILE WHAT: two word lists are the same set.
both() {
	sort -u "$1" >"$1.s"
	sort -u "$2" >"$2.s"
	comm -23 "$1.s" "$2.s" | while IFS= read -r w; do
		echo "# sendwrap logs or sends it, but $3 lacks it: $w"
	done >"$tmp/diff"
	comm -13 "$1.s" "$2.s" | while IFS= read -r w; do
		echo "# in $3, but sendwrap never logs or sends it: $w"
	done >>"$tmp/diff"
	if [ -s "$tmp/diff" ]; then
		cat "$tmp/diff"
		findings=$((findings + $(wc -l <"$tmp/diff")))
	fi
}

awk -F'\t' '$1 == "outcome" { print $4 }' "$tmp/records" >"$tmp/c.outcomes"
heads "$man" LOGGING "Outcome lines" | cut -f1 | awk '{ print $1 }' \
    >"$tmp/p.outcomes"
both "$tmp/c.outcomes" "$tmp/p.outcomes" "LOGGING, Outcome lines"

awk -F'\t' '$1 == "field" { print $4 }' "$tmp/records" >"$tmp/c.fields"
heads "$man" LOGGING Fields | cut -f1 >"$tmp/p.fields"
both "$tmp/c.fields" "$tmp/p.fields" "LOGGING, Fields"

# -q: the words and fields of its lines, as its entry shows them.  rule=
# comes from line_rule(), which the -q line shares with the log lines.
awk '
/^\.Sh / { sec = $2 }
sec == "DESCRIPTION" && /^\.It Fl / { inq = ($3 == "q") }
inq && /^\.Bd -literal/ { lit = 1; next }
inq && /^\.Ed/ { lit = 0 }
lit' "$man" >"$tmp/q.block"
awk -F'\t' '$1 == "qword" { print $4 }' "$tmp/records" >"$tmp/c.qwords"
awk '$1 !~ /^\[/ { print $1 }' "$tmp/q.block" >"$tmp/p.qwords"
both "$tmp/c.qwords" "$tmp/p.qwords" "the lines of -q"
{
	awk -F'\t' '$1 == "qfield" { print $4 }' "$tmp/records"
	echo rule
} >"$tmp/c.qfields"
tr -s ' []' '\n' <"$tmp/q.block" | sed -n 's/^\([a-z_]*\)=.*/\1/p' \
    >"$tmp/p.qfields"
both "$tmp/c.qfields" "$tmp/p.qfields" "the fields of -q"

heads "$man" LOGGING "SMTP replies" | cut -f1 >"$tmp/replies"
awk -F'\t' '$1 == "code" { print $4 }' "$tmp/records" >"$tmp/c.codes"
sed -n 's/^\([245][0-9][0-9] [245]\.[0-9]*\.[0-9]*\) .*/\1/p' \
    "$tmp/replies" >"$tmp/p.codes"
both "$tmp/c.codes" "$tmp/p.codes" "SMTP replies (codes)"
awk -F'\t' '$1 == "text" { print $4 }' "$tmp/records" >"$tmp/c.texts"
sed -n 's/^[245][0-9][0-9] [245]\.[0-9]*\.[0-9]* % //p' \
    "$tmp/replies" >"$tmp/p.texts"
both "$tmp/c.texts" "$tmp/p.texts" "SMTP replies (texts)"

echo "diagnostics: $(wc -l <"$tmp/messages") messages in the code," \
    "$(wc -l <"$tmp/entries.ok") entries in DIAGNOSTICS," \
    "$(sort -u "$tmp/c.outcomes" | wc -l) outcomes," \
    "$(sort -u "$tmp/c.fields" | wc -l) fields," \
    "$(sort -u "$tmp/c.codes" | wc -l) reply codes;" \
    "$findings findings"
[ "$findings" -eq 0 ]
