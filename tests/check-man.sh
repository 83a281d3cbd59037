#!/bin/sh
#
# check-man.sh - keep sendwrap.8, sendwrap.allow.5 and the program from
# drifting apart.
#
# 1. mandoc -Tlint finds nothing in either page.  Only two kinds of
#    message are set aside, because they depend on the machine and not
#    on the page: a referenced manual (exim(8), inetd(8), ...) that is
#    not installed here, and a stale mandoc.db.  They are listed as notes.
# 2. The options agree three ways, each with the same argument or none:
#    the usage text of "sendwrap -h" (its synopsis, and its option lines
#    if it has any), sendwrap.8's SYNOPSIS, and its option list (.It Fl
#    X).  Defaults that option lines name, "(default 35)", appear in the
#    option's entry in the page.  Every option sendwrap.allow.5 names is
#    one that sendwrap.8 documents, with an argument where it shows one.
# 3. The binary accepts every option the page documents: "sendwrap -t -X
#    [value]" must not answer "unknown option -X", nor "needs an
#    argument" for a flag, nor take a documented argument for the
#    program.  A letter nobody documents is probed too, and must be
#    rejected, so the probe itself is known to work.
# 4. Every sendwrap command line shown in the rendered pages, README.md
#    and examples/ uses only documented options, and the binary, run
#    with -t on those options, reports no option error.
# 5. README.md links to both pages, its synopsis has the options of the
#    usage text, and its option table names only documented options.
# 6. sendwrap.8 and sendwrap.allow.5 refer to each other (.Xr), so that
#    a reader of either finds the other.
# 7. tests/check-diagnostics.sh finds nothing: every message the code can
#    print or log is in DIAGNOSTICS and every entry there is one the code
#    prints; the outcome words and fields in LOGGING, the SMTP replies
#    and the -q lines are those of the code (see that script).
# 8. That check is not blind: on copies of the pages with an entry
#    removed, added or listed twice, and of the sources with a new
#    message, a new message composed into others, a new outcome, field
#    or reply, it fails and names what is missing.
#
# Usage: tests/check-man.sh [sendwrap [sendwrap.8 [README.md
#            [sendwrap.allow.5]]]]

cd "$(dirname "$0")/.." || exit 1
bin=${1:-./sendwrap}
man=${2:-sendwrap.8}
readme=${3:-README.md}
fmt=${4:-sendwrap.allow.5}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
LC_ALL=C
export LC_ALL
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-man.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
skipped=0

ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}

not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
}

skip() {
	skipped=$((skipped + 1))
	echo "SKIP - $1"
}

# show FILE: the evidence under a failure.
show() {
	sed 's/^/#   /' "$1"
}

# A probe must not hang the suite if an option ever makes sendwrap wait.
if command -v timeout >/dev/null 2>&1; then
	run_bin() { timeout 20 "$bin" "$@"; }
else
	run_bin() { "$bin" "$@"; }
fi

if [ ! -x "$bin" ]; then
	not_ok "$bin is not an executable; build it first (make)"
	echo "man: $passed passed, $failed failed, $skipped skipped"
	exit 1
fi
for page in "$man" "$fmt"; do
	if [ ! -f "$page" ]; then
		not_ok "$page does not exist"
		echo "man: $passed passed, $failed failed, $skipped skipped"
		exit 1
	fi
done

# A program for -t to find, and an allowlist for -a to read.
printf '#!/bin/sh\nexit 0\n' >"$tmp/prog"
chmod 755 "$tmp/prog"
printf '192.0.2.0/24 1\n' >"$tmp/probe.allow"

# ---- 1. mandoc -Tlint ----

# The rendered text of each page, for section 4: $tmp/rendered.8 and
# $tmp/rendered.5, empty without mandoc.
: >"$tmp/rendered.8"
: >"$tmp/rendered.5"
if command -v mandoc >/dev/null 2>&1; then
	: >"$tmp/notfound"
	for page in "$man" "$fmt"; do
		mandoc -Tlint "$page" >"$tmp/lint" 2>&1
		grep -v -e 'STYLE: referenced manual not found' \
		    -e 'outdated mandoc.db' "$tmp/lint" >"$tmp/lint.page"
		if [ -s "$tmp/lint.page" ]; then
			not_ok "mandoc -Tlint $page reports problems"
			show "$tmp/lint.page"
		else
			ok "mandoc -Tlint $page reports nothing about the page"
		fi
		sed -n 's/.*referenced manual not found: Xr \([^ ]*\) \([0-9a-z]*\).*/\1(\2)/p' \
		    "$tmp/lint" >>"$tmp/notfound"
		# Plain text: no overstrike (a character, a backspace) for bold.
		bs=$(printf '\b')
		out=$tmp/rendered.${page##*.}
		mandoc -Tascii -Owidth=400 "$page" 2>/dev/null |
		    sed "s/.$bs//g" >"$out"
		if grep -q '^DESCRIPTION' "$out"; then
			ok "mandoc renders $page"
		else
			not_ok "mandoc does not render $page"
		fi
	done
	if [ -s "$tmp/notfound" ]; then
		echo "# not installed on this machine, so not checked: $(sort -u "$tmp/notfound" | tr '\n' ' ')"
	fi
else
	skip "mandoc -Tlint $man $fmt: mandoc is not installed (.ci/run installs it)"
fi

# ---- 2. options: usage text, SYNOPSIS, option list ----

# The options of a synopsis as lines "LETTER ARITY": "[-hstVv]" gives
# flags, "[-a file]..." and "[-c dir [-C ttl]]" options with an argument,
# a bare "-P" a flag.  Shared by the usage text and README.md.
# shellcheck disable=SC2016
synopsis_awk='
function strip(w) {
	gsub(/[][]/, "", w)
	sub(/[.][.][.]$/, "", w)
	return w
}
{
	for (i = 1; i <= NF; i++) {
		w = strip($i)
		if (w !~ /^-[A-Za-z0-9]+$/)
			continue
		if (length(w) > 2) {
			for (k = 2; k <= length(w); k++)
				print substr(w, k, 1), 0
			continue
		}
		# One letter: its argument is the next word, unless the
		# group closes first ("[-v]") or an option follows.
		if ($i !~ /[]]$/ && i < NF && $(i + 1) !~ /^[[-]/ &&
		    strip($(i + 1)) != "") {
			print substr(w, 2, 1), 1
			i++
		} else
			print substr(w, 2, 1), 0
	}
}'

run_bin -h >"$tmp/usage" 2>"$tmp/usage.err"
rc=$?
if [ "$rc" -eq 0 ] && [ -s "$tmp/usage" ]; then
	ok "sendwrap -h prints the usage on stdout and exits 0"
else
	not_ok "sendwrap -h exits $rc"
	show "$tmp/usage.err"
fi
# The synopsis runs from "usage:" to the first option line, if there
# is one: the usage text may be the synopsis alone, as the page's is.
awk '/^ +-[A-Za-z0-9]/ { exit } { print }' "$tmp/usage" |
    awk "$synopsis_awk" | sort -u >"$tmp/u.syn"
awk '/^ +-[A-Za-z0-9]/ { sub(/^ +-/, ""); print substr($0, 1, 1) }' \
    "$tmp/usage" | sort -u >"$tmp/u.lines"

# The man page: .Op Fl lines in SYNOPSIS, .It Fl lines in DESCRIPTION.
awk '
/^\.Sh / { sec = $2 }
sec == "SYNOPSIS" && /^\./ {
	for (i = 1; i < NF; i++) {
		if ($i != "Fl" && $i != ".Fl")
			continue
		x = $(i + 1)
		if (x == "\\-")
			continue
		if ($(i + 2) == "Ar")
			print substr(x, 1, 1), 1
		else
			for (k = 1; k <= length(x); k++)
				print substr(x, k, 1), 0
	}
}' "$man" | sort -u >"$tmp/m.syn"
awk '
/^\.Sh / { sec = $2 }
sec == "DESCRIPTION" && $1 == ".It" && $2 == "Fl" {
	print $3, ($4 == "Ar" ? 1 : 0)
}' "$man" | sort -u >"$tmp/m.list"

if [ -s "$tmp/u.syn" ] && [ -s "$tmp/m.syn" ] && [ -s "$tmp/m.list" ]; then
	ok "options found: usage $(wc -l <"$tmp/u.syn"), SYNOPSIS $(wc -l <"$tmp/m.syn"), option list $(wc -l <"$tmp/m.list")"
else
	not_ok "no options found in the usage text, the SYNOPSIS or the option list"
fi

# same A B WHAT: two "LETTER ARITY" lists are equal.
same() {
	if cmp -s "$1" "$2"; then
		ok "$3"
	else
		not_ok "$3"
		comm -23 "$1" "$2" | sed 's/^\(.\) 1$/-\1 with an argument/;
		    s/^\(.\) 0$/-\1 without an argument/;
		    s/^/#   only in the first: /'
		comm -13 "$1" "$2" | sed 's/^\(.\) 1$/-\1 with an argument/;
		    s/^\(.\) 0$/-\1 without an argument/;
		    s/^/#   only in the second: /'
	fi
}

cut -c1 "$tmp/u.syn" | sort -u >"$tmp/u.letters"
if [ -s "$tmp/u.lines" ]; then
	same "$tmp/u.letters" "$tmp/u.lines" \
	    "usage text: its synopsis and its option lines name the same options"
else
	ok "usage text is the synopsis alone, with no option lines to compare"
fi
same "$tmp/u.syn" "$tmp/m.syn" \
    "usage synopsis and man page SYNOPSIS: same options, same arguments"
same "$tmp/m.syn" "$tmp/m.list" \
    "man page SYNOPSIS and option list: same options, same arguments"

# A default that the usage text names, "(default 35)", is stated in the
# option's man entry as "default is 35" (markup aside).
awk '
/^ +-[A-Za-z0-9]/ && /\(default [^)]*\)/ {
	l = $0
	sub(/^ +-/, "", l)
	d = $0
	sub(/.*\(default /, "", d)
	sub(/\).*/, "", d)
	print substr(l, 1, 1), d
}' "$tmp/usage" >"$tmp/u.defaults"
while read -r letter value; do
	awk -v x="$letter" '
	/^\.Sh / { sec = $2 }
	sec != "DESCRIPTION" { inside = 0; next }
	$1 == ".It" && $2 == "Fl" { inside = ($3 == x); depth = 0; next }
	inside && $1 == ".Bl" { depth++ }
	inside && $1 == ".El" { if (depth-- == 0) inside = 0 }
	inside {
		# Drop the mdoc macro names, keep their arguments.
		for (i = 1; i <= NF; i++)
			if ($i !~ /^[.]?[A-Z][a-z][a-z]?$/)
				printf "%s ", $i
	}' "$man" | tr -s ' ' >"$tmp/entry"
	if grep -qiF -- "default is $value" "$tmp/entry"; then
		ok "default of -$letter ($value) is stated in its man entry"
	else
		not_ok "default of -$letter in the usage text ($value): its man entry does not say \"default is $value\""
	fi
done <"$tmp/u.defaults"
prog_default=$(sed -n 's/.*program defaults to "\([^ "]*\).*/\1/p' "$tmp/usage")
if [ -n "$prog_default" ]; then
	if grep -qF -- "$prog_default" "$man"; then
		ok "default program ($prog_default) is in the man page"
	else
		not_ok "default program in the usage text ($prog_default) is not in the man page"
	fi
fi

# The options sendwrap.allow.5 names (".Fl a", ".Fl A Ar entry") as
# "LETTER ARITY" lines, arity 1 only where the page shows an argument.
awk '
/^\./ {
	for (i = 1; i < NF; i++) {
		if ($i != "Fl" && $i != ".Fl")
			continue
		x = $(i + 1)
		if (x !~ /^[A-Za-z0-9]$/)
			continue
		print x, ($(i + 2) == "Ar" ? 1 : 0)
	}
}' "$fmt" | sort -u >"$tmp/f.opts"
cut -c1 "$tmp/m.list" | sort -u >"$tmp/m.letters"
bad=
while read -r letter arity; do
	if ! grep -qx "$letter" "$tmp/m.letters"; then
		bad="$bad -$letter (not in $man)"
	elif [ "$arity" -eq 1 ] && ! grep -qx "$letter 1" "$tmp/m.list"; then
		bad="$bad -$letter (an argument $man does not show)"
	fi
done <"$tmp/f.opts"
if [ ! -s "$tmp/f.opts" ]; then
	not_ok "$fmt names no option of sendwrap (-a, -A, -t, ...)"
elif [ -z "$bad" ]; then
	ok "$fmt names only options that $man documents ($(cut -c1 "$tmp/f.opts" | sort -u | sed 's/^/-/' | tr '\n' ' ' | sed 's/ $//'))"
else
	not_ok "$fmt names options as $man does not:$bad"
fi

# ---- 3. the binary accepts every documented option ----

# probe LETTER ARITY: run sendwrap -t with the option, output in $tmp/out.
probe() {
	case $1 in
	a) value=$tmp/probe.allow ;;
	A) value=192.0.2.0/24 ;;
	d) value=1 ;;
	e) value=drop ;;
	q) value=192.0.2.1 ;;
	*) value=$tmp/probe-value ;;
	esac
	# A flag goes last, so that an option that does take an argument
	# finds none and says so.
	if [ "$2" -eq 1 ]; then
		(cd "$tmp" && run_bin -t "-$1" "$value" -- "$tmp/prog") \
		    >"$tmp/out" 2>&1
	else
		(cd "$tmp" && run_bin -t "-$1") >"$tmp/out" 2>&1
	fi
}

while read -r letter arity; do
	probe "$letter" "$arity"
	if grep -q -- "unknown option -$letter" "$tmp/out"; then
		not_ok "sendwrap rejects the documented -$letter as unknown"
		show "$tmp/out"
	elif grep -q -- "option -$letter needs an argument" "$tmp/out"; then
		not_ok "sendwrap -$letter needs an argument; the man page shows none"
	elif [ "$arity" -eq 1 ] && grep -qF -- "cannot run $value" "$tmp/out"; then
		not_ok "sendwrap -$letter takes no argument; the man page shows one"
	else
		ok "sendwrap accepts -$letter as documented"
	fi
done <"$tmp/m.list"

cut -c1 "$tmp/m.list" "$tmp/u.syn" | sort -u >"$tmp/known"
stranger=
for c in Z Y X W U T S R Q P O N M L K J I H G F E D C B; do
	grep -qx "$c" "$tmp/known" || { stranger=$c; break; }
done
if [ -n "$stranger" ]; then
	probe "$stranger" 0
	if grep -q -- "unknown option -$stranger" "$tmp/out"; then
		ok "probe works: the undocumented -$stranger is rejected"
	else
		not_ok "probe is blind: the undocumented -$stranger is not rejected"
		show "$tmp/out"
	fi
fi

# ---- 4. sendwrap command lines in the page, README.md and examples/ ----

# Print each sendwrap command line as "WHERE<TAB>ARG<TAB>ARG..." (its
# options, up to "--" or the program), and each undocumented option as
# "WHERE<TAB>!X".  A command is a word "sendwrap" or ".../sendwrap",
# after an optional "Key=" (systemd's ExecStart=), or an xinetd
# "server_args =" line, but not a word that follows an option.  Lines
# ending in a backslash are joined.
invocations() {
	awk -v where="$1" -v known="$tmp/m.list" '
	BEGIN {
		while ((getline l < known) > 0) {
			split(l, f, " ")
			doc[f[1]] = 1
			arg[f[1]] = f[2]
		}
	}
	# A word as written in prose or markup: no backticks or quotes
	# around it, no trailing punctuation.
	function clean(w) {
		sub(/^[`"(]+/, "", w)
		sub(/[`",.;:)]+$/, "", w)
		return w
	}
	function is_command(w) {
		w = clean(w)
		if (w ~ /^[^-][^=]*=/)
			sub(/^[^=]*=/, "", w)
		sub(/^[-@:+!]+\//, "/", w)
		return w == "sendwrap" || w ~ /\/sendwrap$/
	}
	function parse(first,   j, k, w, c, a, out, q) {
		out = ""
		for (j = first; j <= NF; j++) {
			w = clean($j)
			if (w == "--" || w !~ /^-[A-Za-z0-9]/)
				break
			for (k = 2; k <= length(w); k++) {
				c = substr(w, k, 1)
				if (c !~ /[A-Za-z0-9]/)
					return
				if (!(c in doc))
					print where "\t!" c
				if (arg[c]) {
					a = substr(w, k + 1)
					if (a == "" && j < NF) {
						a = $(++j)
						q = substr(a, 1, 1)
						if ((q == "\"" || q == "'\''") &&
						    (length(a) == 1 || substr(a, length(a)) != q))
							while (j < NF) {
								a = a " " $(++j)
								if (substr(a, length(a)) == q)
									break
							}
						if (q == "\"" || q == "'\''")
							a = substr(a, 2, length(a) - 2)
						else
							a = clean(a)
					}
					w = substr(w, 1, k) "\t" a
					break
				}
			}
			out = out "\t" w
		}
		print where out
	}
	/\\$/ { held = held substr($0, 1, length($0) - 1) " "; next }
	{
		line = held $0
		held = ""
		$0 = line
		if ($0 ~ /^[ \t]*server_args[ \t]*=/) {
			sub(/^[ \t]*server_args[ \t]*=/, "")
			$0 = $0
			parse(1)
			next
		}
		# A word after an option of another program is its argument
		# ("journalctl -t sendwrap -f", "-c /var/cache/sendwrap").
		for (i = 1; i < NF; i++)
			if (is_command($i) && (i == 1 || $(i - 1) !~ /^--?[A-Za-z]/))
				parse(i + 1)
	}'
}

: >"$tmp/calls"
for page in "$man" "$fmt"; do
	out=$tmp/rendered.${page##*.}
	if [ -s "$out" ]; then
		invocations "$page" <"$out" >>"$tmp/calls"
		if grep -q "^$page	-" "$tmp/calls"; then
			ok "$page shows sendwrap command lines with options"
		else
			not_ok "no sendwrap command line with options found in $page"
		fi
	else
		skip "command lines in $page: cannot render it without mandoc"
	fi
done
if [ -f "$readme" ]; then
	# shellcheck disable=SC2094
	invocations "$readme" <"$readme" >>"$tmp/calls"
fi
if [ -d examples ]; then
	find examples -type f | sort >"$tmp/examples"
	while IFS= read -r f; do
		# Text files only; the first argument is a label.
		if grep -Iq . "$f"; then
			# shellcheck disable=SC2094
			invocations "$f" <"$f" >>"$tmp/calls"
		fi
	done <"$tmp/examples"
fi

grep '	!' "$tmp/calls" | sort -u >"$tmp/undocumented"
if [ -s "$tmp/undocumented" ]; then
	not_ok "command lines use options the man page does not document"
	sed 's/	!/: -/; s/^/#   /' "$tmp/undocumented"
else
	ok "command lines use only documented options ($(grep -c '	-' "$tmp/calls") with options checked)"
fi

# Run each distinct set of options past the binary in check mode.
grep -v '	!' "$tmp/calls" | sort -u >"$tmp/calls.ok"
bad=0
while IFS= read -r call; do
	where=${call%%	*}
	opts=${call#"$where"}
	set -f
	IFS='	'
	# shellcheck disable=SC2086
	set -- $opts
	unset IFS
	set +f
	[ "$#" -gt 0 ] || continue
	(cd "$tmp" && run_bin -t "$@" -- "$tmp/prog") >"$tmp/out" 2>&1
	if grep -Eq '^sendwrap: (unknown option|option -. needs an argument|-[A-Za-z0-9]: )' \
	    "$tmp/out"; then
		bad=$((bad + 1))
		echo "#   $where: sendwrap $*"
		grep -E '^sendwrap: ' "$tmp/out" | sed 's/^/#     /'
	fi
done <"$tmp/calls.ok"
if [ "$bad" -eq 0 ]; then
	ok "sendwrap -t accepts the options of every command line shown"
else
	not_ok "sendwrap -t rejects the options of $bad command line(s) shown"
fi

# ---- 5. README.md ----

if [ -f "$readme" ]; then
	for page in "$man" "$fmt"; do
		name=${page##*/}
		re=$(printf '%s' "$name" | sed 's/\./\\./g')
		if grep -Eq "\\]\\((\\./)?$re\\)" "$readme"; then
			ok "$readme links to $name"
		else
			not_ok "$readme has no link to $name"
		fi
	done
	awk '
	/^[ \t]*sendwrap \[/ { on = 1; print; next }
	on && /^[ \t]+(\[|sendwrap )/ { print; next }
	{ on = 0 }' "$readme" | awk "$synopsis_awk" | sort -u >"$tmp/r.syn"
	if [ -s "$tmp/r.syn" ]; then
		same "$tmp/r.syn" "$tmp/u.syn" \
		    "$readme synopsis and usage synopsis: same options, same arguments"
	else
		skip "$readme synopsis: $readme shows none"
	fi
	# Option table rows: | `-a file` | ... |, first cell only.
	awk -F'|' '/^\|[ \t]*`-/ {
		s = $2
		while (match(s, /`-[A-Za-z0-9]/)) {
			print substr(s, RSTART + 2, 1)
			s = substr(s, RSTART + RLENGTH)
		}
	}' "$readme" | sort -u >"$tmp/r.table"
	if [ ! -s "$tmp/r.table" ]; then
		skip "$readme option table: $readme has none"
	elif [ -z "$(comm -23 "$tmp/r.table" "$tmp/m.letters")" ]; then
		ok "$readme option table names only documented options"
	else
		not_ok "$readme option table names options the man page lacks:" \
		    "$(comm -23 "$tmp/r.table" "$tmp/m.letters" | sed 's/^/-/' | tr '\n' ' ')"
	fi
else
	skip "$readme does not exist yet: its link to sendwrap.8 is not checked"
fi

# ---- 6. the two pages refer to each other ----

# xref PAGE NAME SECTION: PAGE has ".Xr NAME SECTION".
xref() {
	if grep -Eq "^\\.Xr $2 $3( |\$)" "$1"; then
		ok "$1 refers to $2($3)"
	else
		not_ok "$1 has no .Xr $2 $3"
	fi
}
man_name=${man##*/}
fmt_name=${fmt##*/}
xref "$man" "${fmt_name%.*}" "${fmt_name##*.}"
xref "$fmt" "${man_name%.*}" "${man_name##*.}"

# ---- 7. messages, outcomes, fields, replies ----

diag=tests/check-diagnostics.sh
if sh "$diag" . "$man" "$fmt" >"$tmp/diag" 2>&1; then
	ok "the code and the pages agree: $(sed -n 's/^diagnostics: //p' "$tmp/diag")"
else
	not_ok "the code and the pages disagree ($diag)"
	show "$tmp/diag"
fi

# ---- 8. the check of 7 is not blind ----

mkdir "$tmp/src" "$tmp/mut"
cp ./*.c ./*.h "$tmp/src/"

# expect_finding WHAT TEXT SRCDIR MAN FMT: check-diagnostics.sh fails on
# these files and names TEXT.
expect_finding() {
	if sh "$diag" "$3" "$4" "$5" >"$tmp/mut.out" 2>&1; then
		not_ok "check-diagnostics passes when $1"
	elif grep -qF -- "$2" "$tmp/mut.out"; then
		ok "check-diagnostics fails when $1"
	else
		not_ok "check-diagnostics fails when $1, but does not name: $2"
		show "$tmp/mut.out"
	fi
}

# without PAGE LINE: PAGE without its line LINE (whole), in $tmp/mut.
without() {
	out=$tmp/mut/${1##*/}
	if grep -qxF -- "$2" "$1"; then
		grep -vxF -- "$2" "$1" >"$out"
	else
		cp "$1" "$out"
		echo "# cannot plant: $1 has no line $2"
	fi
}

# A page entry gone: the message it listed is reported.
without "$man" '.It Li waiting failed\&: Ar error'
expect_finding "an entry of $man is removed" "waiting failed: %" \
    "$tmp/src" "$out" "$fmt"
without "$fmt" '.It Li NUL byte in line'
expect_finding "an entry of $fmt is removed" "NUL byte in line" \
    "$tmp/src" "$man" "$out"
without "$man" '.It Li held'
expect_finding "a field is removed from LOGGING" "Fields lacks it: held" \
    "$tmp/src" "$out" "$fmt"
without "$man" '.It Li busy Li ip= Ns Ar A Li port= Ns Ar P Li delay= Ns Ar S Li after= Ns Ar S Li held= Ns Ar S'
expect_finding "an outcome is removed from LOGGING" \
    "Outcome lines lacks it: busy" "$tmp/src" "$out" "$fmt"
without "$man" '.It Li 421 4.7.0 Ar HOST Li Too many connections from your address; come back later'
expect_finding "a reply is removed" "Too many connections from your address" \
    "$tmp/src" "$out" "$fmt"

# A page entry the code never prints, and one listed twice.
awk '{ print } /^\.Ss Reasons of error lines/ { r = 1 }
r && /^\.Bl/ { print ".It Li a message sendwrap never prints"; r = 0 }' \
    "$man" >"$tmp/mut/extra.8"
expect_finding "an entry of $man is one the code never prints" \
    "a message sendwrap never prints" "$tmp/src" "$tmp/mut/extra.8" "$fmt"
awk '{ print } $0 == ".It Li program name is too long" { print }' \
    "$man" >"$tmp/mut/twice.8"
expect_finding "an entry is listed twice" "listed twice" \
    "$tmp/src" "$tmp/mut/twice.8" "$fmt"
awk '{ print } $0 == ".It Li - Ns Ar X Li needs a pass cache directory (-c dir)" {
	print ".It Li -C needs a pass cache directory (-c dir)" }' \
    "$man" >"$tmp/mut/values.8"
expect_finding "a message is listed twice, once with a value" \
    "listed twice (first at" "$tmp/src" "$tmp/mut/values.8" "$fmt"

# New output in the code: each is reported.
cp -R "$tmp/src" "$tmp/src.new"
cat >>"$tmp/src.new/peer.c" <<'PROBE'
void
probe_output(struct peer *p, struct line *l)
{
	logmsg(LOG_ERR, "a message no page lists: %s", "x");
	line_begin(l, "probeword", p);
	line_add(l, " probefield=%d", 1);
	reply(p, "421 4.9.9", "Probe reply");
}
PROBE
expect_finding "the code logs a new message" "a message no page lists: %" \
    "$tmp/src.new" "$man" "$fmt"
expect_finding "the code logs a new outcome" "Outcome lines lacks it: probeword" \
    "$tmp/src.new" "$man" "$fmt"
expect_finding "the code logs a new field" "Fields lacks it: probefield" \
    "$tmp/src.new" "$man" "$fmt"
expect_finding "the code sends a new reply" "421 4.9.9" \
    "$tmp/src.new" "$man" "$fmt"
# A new message of al_delay_parse() reaches -d, -w and the allowlist.
cp -R "$tmp/src" "$tmp/src.delay"
sed '/"delay %s has more than 3 decimal places", q);/a\
		snprintf(msg, msgsz, "delay %s is a probe", q);' \
    allowlist.c >"$tmp/src.delay/allowlist.c"
if cmp -s allowlist.c "$tmp/src.delay/allowlist.c"; then
	echo "# cannot plant: allowlist.c has no delay message to follow"
fi
expect_finding "a message is composed into others" "-w: delay % is a probe" \
    "$tmp/src.delay" "$man" "$fmt"

echo "man: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
