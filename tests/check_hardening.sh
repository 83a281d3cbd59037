#!/bin/sh
# check_hardening.sh - prove that a sendwrap binary carries the hardening
# the Makefile asks for, by reading the ELF file itself:
#
#   pie       ELF type DYN with the PIE flag: the address space is random
#   relro     a GNU_RELRO segment: the GOT and friends are read-only ...
#   now       ... from the start (BIND_NOW), so "full RELRO"
#   canary    -fstack-protector: functions check a stack canary
#   fortify   -D_FORTIFY_SOURCE: bounded string calls (__*_chk)
#   nx        a GNU_STACK segment without execute permission
#
# usage: check_hardening.sh BINARY        every property must be there
#        check_hardening.sh -n BINARY     every property but nx must be
#                                         missing (proves the checks can fail)
# A static-pie binary is checked through its symbol table, which make
# install leaves in place.
# shellcheck disable=SC2317	# the has_ functions are called as has_$prop
set -u

expect=present
if [ "${1:-}" = "-n" ]; then
	expect=missing
	shift
fi
bin=${1:?usage: check_hardening.sh [-n] BINARY}
for tool in readelf objdump; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: hardening check needs $tool (binutils)"
		exit 0
	fi
done
[ -f "$bin" ] || { echo "check_hardening: $bin: no such file" >&2; exit 1; }

header=$(readelf -hW "$bin") || exit 1
dynamic=$(readelf -dW "$bin" 2>/dev/null)
segments=$(readelf -lW "$bin")
if printf '%s\n' "$segments" | grep -q ' INTERP '; then
	linked=dynamic
	symbols=$(readelf -W --dyn-syms "$bin")
else
	linked=static
	symbols=$(readelf -W -s "$bin")
fi

has_pie() {
	printf '%s\n' "$header" | grep -q 'Type: *DYN' &&
	    printf '%s\n' "$dynamic" | grep -q 'FLAGS_1.*PIE'
}
has_relro() {
	printf '%s\n' "$segments" | grep -q 'GNU_RELRO'
}
has_now() {
	printf '%s\n' "$dynamic" | grep -Eq 'BIND_NOW|FLAGS_1.*Flags:.* NOW'
}
# A dynamic binary imports __stack_chk_fail only if its own code calls
# it.  A static one always holds it (libc's own code uses it), so there
# main's code must load the canary from %fs:0x28.
has_canary() {
	if [ "$linked" = dynamic ]; then
		printf '%s\n' "$symbols" | grep -q ' __stack_chk_fail'
	else
		objdump -d --disassemble=main "$bin" 2>/dev/null |
		    grep -q '%fs:0x28'
	fi
}
# Not __syslog_chk: a static libc holds it beside syslog() itself.
fortified=' __(v?s?n?printf|v?[fd]printf|mem[a-z]+|st[pr][a-z]*|read|recv)_chk'
has_fortify() {
	printf '%s\n' "$symbols" | grep -Eq "$fortified(@|\$)"
}
has_nx() {
	printf '%s\n' "$segments" | grep 'GNU_STACK' | grep -qv 'RWE'
}

failed=0
for prop in pie relro now canary fortify nx; do
	if has_$prop; then state=present; else state=missing; fi
	want=$expect
	[ "$expect" = missing ] && [ "$prop" = nx ] && want=$state
	if [ "$state" = "$want" ]; then
		echo "ok   $prop: $state ($bin, $linked)"
	else
		echo "FAIL $prop: $state, expected $want ($bin, $linked)"
		failed=$((failed + 1))
	fi
done
exit "$failed"
