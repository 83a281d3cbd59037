# sendwrap: make, make check, make install, make clean.
# CC, CFLAGS, LDFLAGS, PREFIX and DESTDIR may be set on the command line;
# make STATIC=1 links a static-pie binary.

VERSION	 = 1.1

CC	?= cc
CFLAGS	?= -O2 -g
LDFLAGS	?=
PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
MANDIR	?= $(PREFIX)/share/man

WARN	 = -std=c99 -Wall -Wextra -Werror
HARDEN	 = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
LDHARDEN = -pie -Wl,-z,relro,-z,now
ifeq ($(STATIC),1)
LDHARDEN = -static-pie -Wl,-z,relro,-z,now
endif
DEFS	 = -D_GNU_SOURCE -DSENDWRAP_VERSION='"$(VERSION)"'
SW_CFLAGS = $(DEFS) $(WARN) $(HARDEN) $(CFLAGS)
SW_LDFLAGS = $(LDHARDEN) $(LDFLAGS)

# Test builds: build/plain and build/asan, each with its own flags.
B	 ?= build/plain
SAN	 ?=
TEST_CFLAGS = $(DEFS) -std=c99 -Wall -Wextra -Werror -O1 -g -I. $(SAN)
CMOCKA	 = -lcmocka
ASAN	 = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

all: sendwrap

sendwrap: sendwrap.c allowlist.c allowlist.h passcache.c passcache.h
	$(CC) $(SW_CFLAGS) -o $@ sendwrap.c allowlist.c passcache.c $(SW_LDFLAGS)

# ---- tests ----
UNIT	= $(B)/test_allowlist $(B)/test_sendwrap $(B)/test_passcache
TOOLS	= $(B)/sendwrap $(B)/fakemta $(B)/test_flow $(B)/test_greet_cache \
	  $(B)/test_faults

$(B)/test_allowlist: tests/test_allowlist.c allowlist.c allowlist.h
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/test_allowlist.c allowlist.c $(CMOCKA)

$(B)/test_sendwrap: tests/test_sendwrap.c sendwrap.c allowlist.c allowlist.h \
    passcache.c passcache.h
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/test_sendwrap.c allowlist.c passcache.c \
	    $(CMOCKA)

$(B)/test_passcache: tests/test_passcache.c tests/cachedir.h passcache.c \
    passcache.h allowlist.c allowlist.h
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/test_passcache.c passcache.c allowlist.c \
	    $(CMOCKA)

$(B)/sendwrap: sendwrap.c allowlist.c allowlist.h passcache.c passcache.h
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ sendwrap.c allowlist.c passcache.c

$(B)/fakemta: tests/fakemta.c
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/fakemta.c

$(B)/test_flow: tests/test_flow.c tests/harness.h
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/test_flow.c $(CMOCKA)

$(B)/test_greet_cache: tests/test_greet_cache.c tests/harness.h \
    tests/cachedir.h
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/test_greet_cache.c $(CMOCKA)

$(B)/test_faults: tests/test_faults.c tests/harness.h
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/test_faults.c $(CMOCKA)

$(B)/test_valgrind: tests/test_valgrind.c tests/harness.h
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/test_valgrind.c $(CMOCKA)

# The unit tests, then the real binary on real loopback connections.
run-tests: $(UNIT) $(TOOLS)
	@for t in $(UNIT); do echo "== $$t"; $$t || exit 1; done
	@echo "== $(B)/test_flow"
	SENDWRAP=$(B)/sendwrap FAKEMTA=$(B)/fakemta $(B)/test_flow
	SENDWRAP=$(B)/sendwrap FAKEMTA=$(B)/fakemta $(B)/test_greet_cache
	SENDWRAP=$(B)/sendwrap FAKEMTA=$(B)/fakemta $(B)/test_faults

check-plain:
	$(MAKE) run-tests B=build/plain SAN=

check-asan:
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(MAKE) run-tests B=build/asan SAN="$(ASAN)"

CHECKS	= check-plain check-asan

# examples/sendwrap-stats on a log sample, with every awk installed.
check-stats:
	sh tests/test-stats.sh

CHECKS	+= check-stats

# sendwrap.8: mandoc -Tlint, its options against sendwrap -h and the
# binary both ways, and every command line it, README.md and examples/ show.
check-man: sendwrap
	sh tests/check-man.sh ./sendwrap sendwrap.8 README.md

CHECKS	+= check-man

# Every file in examples/ as a running service: openbsd-inetd, xinetd,
# systemd-socket-activate and tcpserver in front of the fake MTA and the
# real Exim, driven by smtpprobe and swaks on loopback (.ci/run installs
# them).  make demo: the README's first command.
$(B)/smtpprobe: tests/integration/smtpprobe.c
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/integration/smtpprobe.c

check-integration: sendwrap
	@$(MAKE) --no-print-directory build/plain/fakemta build/plain/smtpprobe B=build/plain SAN=
	bash tests/integration/run ./sendwrap build/plain/fakemta build/plain/smtpprobe

CHECKS	+= check-integration

# The greeting teaser (-g) in front of the real Exim, swaks as the client.
check-teaser: sendwrap
	tests/integration/teaser ./sendwrap

CHECKS	+= check-teaser

# ---- hardening: fuzzing, static analysis, memcheck, the binary's flags ----

# libFuzzer targets: the allowlist parser, and the option and delay
# parsers.  make fuzz fuzzes each for FUZZ_SECONDS; check-fuzz, for
# CHECK_FUZZ_SECONDS.  Both first replay tests/fuzz/seed/ and the
# reproducers in tests/fuzz/regress/ (tests/fuzz/run.sh).
FUZZ_CC	 ?= clang
FUZZ_SECONDS ?= 60
CHECK_FUZZ_SECONDS ?= 10
FUZZ_B	 = build/fuzz
FUZZ_FLAGS = $(DEFS) -std=c99 -Wall -Wextra -Werror -O1 -g -I. \
	    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZERS	 = $(FUZZ_B)/fuzz_allowlist $(FUZZ_B)/fuzz_options

$(FUZZ_B)/fuzz_allowlist: tests/fuzz/fuzz_allowlist.c allowlist.c allowlist.h
	@mkdir -p $(FUZZ_B)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_allowlist.c allowlist.c

$(FUZZ_B)/fuzz_options: tests/fuzz/fuzz_options.c sendwrap.c allowlist.c \
    allowlist.h passcache.c passcache.h
	@mkdir -p $(FUZZ_B)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_options.c allowlist.c \
	    passcache.c

fuzz: $(FUZZERS)
	@for t in allowlist options; do \
	    sh tests/fuzz/run.sh $(FUZZ_B)/fuzz_$$t $$t $(FUZZ_SECONDS) || exit 1; \
	done

check-fuzz:
	@if ! command -v $(FUZZ_CC) >/dev/null; then \
	    echo "SKIP check-fuzz: no $(FUZZ_CC) (libFuzzer)"; exit 0; fi; \
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)

# cppcheck and clang-tidy on every C file; the clang-tidy checks, and
# why, are in .clang-tidy.  cppcheck's variableScope is left out: like
# style(9), the code declares most locals at the top of a function.
LINT_SRCS = $(wildcard *.c tests/*.c tests/fuzz/*.c tests/integration/*.c \
	    bench/*.c)
LINT_DEFS = $(DEFS) -std=c99 -I.

check-lint:
	@if command -v cppcheck >/dev/null; then \
	    cppcheck --enable=warning,style,performance,portability \
		--error-exitcode=1 --inline-suppr --suppress=variableScope \
		--quiet --std=c99 $(DEFS) -I. $(LINT_SRCS) || exit 1; \
	    echo "cppcheck: $(words $(LINT_SRCS)) files clean"; \
	else echo "SKIP cppcheck: not installed"; fi
	@if command -v clang-tidy >/dev/null; then fail=0; \
	    for f in $(LINT_SRCS); do \
		out=$$(clang-tidy --quiet $$f -- $(LINT_DEFS) 2>&1) || { \
		    echo "$$out" | grep -v 'warnings generated'; fail=1; }; \
	    done; \
	    [ $$fail = 0 ] && echo "clang-tidy: $(words $(LINT_SRCS)) files clean"; \
	else echo "SKIP clang-tidy: not installed"; fi

# PIE, full RELRO, stack protector, FORTIFY and NX, read back from the
# real ./sendwrap; and each found missing in a build without them, so
# that the check is known to be able to fail.
check-hardening: sendwrap
	sh tests/check_hardening.sh ./sendwrap
	@mkdir -p build/nohard
	$(CC) $(DEFS) -std=c99 -O2 -U_FORTIFY_SOURCE -fno-stack-protector \
	    -fno-pie -no-pie -Wl,-z,norelro,-z,lazy -o build/nohard/sendwrap \
	    sendwrap.c allowlist.c passcache.c
	sh tests/check_hardening.sh -n build/nohard/sendwrap

# The real binary under valgrind's memcheck, one run per connection
# shape, up to the exec (tests/test_valgrind.c).
check-valgrind:
	@$(MAKE) --no-print-directory build/plain/sendwrap build/plain/fakemta \
	    build/plain/test_valgrind B=build/plain SAN=
	SENDWRAP=build/plain/sendwrap FAKEMTA=build/plain/fakemta \
	    build/plain/test_valgrind

CHECKS	+= check-hardening check-fuzz check-valgrind check-lint

# bench/run: what a waiting connection costs, side by side with the MTA
# launched directly, an exec-only floor and tcpd; then sendwrap's
# listener, sendwrap per connection and Postfix's postscreen (unpacked
# and run under build/bench, never installed); bench/RESULTS.md has this
# machine's table.  make bench installs what it needs and takes about ten
# minutes; check-bench is its smoke run, under a minute, so it cannot rot.
bench:
	bash bench/run

check-bench:
	bash bench/run --quick

CHECKS	+= check-bench

demo: sendwrap
	@$(MAKE) -s --no-print-directory build/plain/fakemta build/plain/smtpprobe B=build/plain SAN=
	@bash tests/integration/demo ./sendwrap build/plain/fakemta build/plain/smtpprobe

check: sendwrap
	@for c in $(CHECKS); do $(MAKE) --no-print-directory $$c || exit 1; done
	@echo "make check: all passed"

install: sendwrap
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 755 sendwrap $(DESTDIR)$(SBINDIR)/sendwrap
	install -m 644 sendwrap.8 $(DESTDIR)$(MANDIR)/man8/sendwrap.8

clean:
	rm -rf sendwrap build

.PHONY: all check check-plain check-asan run-tests install clean check-man \
	check-integration demo check-stats check-teaser fuzz check-fuzz \
	check-lint check-hardening check-valgrind bench check-bench
