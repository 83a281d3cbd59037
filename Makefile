# sendwrap: make, make check, make install, make deb, make clean.
# CC, CPPFLAGS, CFLAGS, LDFLAGS, PREFIX and DESTDIR may be set on the
# command line; make STATIC=1 links a static-pie binary.  GNU make.

VERSION	 = 1.1

CC	?= cc
CPPFLAGS ?=
CFLAGS	?= -O2 -g
LDFLAGS	?=
PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/sendwrap
# sendwrap reads /etc/sendwrap.allow whatever the PREFIX.
SYSCONFDIR ?= /etc
# The units of a packaged install (PREFIX=/usr) go where this machine's
# systemd looks for them (/lib/systemd/system on Debian 12); those of a
# local one, below the PREFIX (/usr/local/lib/systemd/system).
ifeq ($(PREFIX),/usr)
SYSTEMDUNITDIR ?= $(or $(shell pkg-config --variable=systemdsystemunitdir systemd \
	    2>/dev/null),/lib/systemd/system)
else
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
endif

# What make install (and so the Debian package) installs.
MAN	 = sendwrap.8 sendwrap.allow.5 sendwrap-stats.1
# The systemd units, and (as documentation) every other launcher setup
# and the sample allowlist, are the files of examples/, found by name.
SYSTEMD_UNITS = $(wildcard examples/systemd/*.socket examples/systemd/*.service \
	    examples/systemd/*.timer)
DOCEX	 = $(filter-out examples/sendwrap-stats $(SYSTEMD_UNITS), \
	    $(shell find examples -type f | LC_ALL=C sort))

WARN	 = -std=c99 -Wall -Wextra -Werror
# _FORTIFY_SOURCE=2 unless CPPFLAGS or CFLAGS already set it (Debian's
# dpkg-buildflags does): a second, different value is a redefinition,
# an error under -Werror.
FORTIFY	 = $(if $(findstring _FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),, \
	    -D_FORTIFY_SOURCE=2)
HARDEN	 = $(FORTIFY) -fstack-protector-strong -fPIE
LDHARDEN = -pie -Wl,-z,relro,-z,now
ifeq ($(STATIC),1)
LDHARDEN = -static-pie -Wl,-z,relro,-z,now
endif
DEFS	 = -D_GNU_SOURCE -DSENDWRAP_VERSION='"$(VERSION)"'
SW_CFLAGS = $(DEFS) $(WARN) $(HARDEN) $(CPPFLAGS) $(CFLAGS)
SW_LDFLAGS = $(LDHARDEN) $(LDFLAGS)

# Test builds: build/plain and build/asan, each with its own flags.
B	 ?= build/plain
SAN	 ?=
TEST_CFLAGS = $(DEFS) -std=c99 -Wall -Wextra -Werror -O1 -g -I. $(SAN)
CMOCKA	 = -lcmocka
ASAN	 = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

all: sendwrap

SRCS	 = sendwrap.c listener.c peer.c log.c allowlist.c passcache.c
HDRS	 = listener.h peer.h log.h allowlist.h passcache.h

sendwrap: $(SRCS) $(HDRS)
	$(CC) $(SW_CFLAGS) -o $@ $(SRCS) $(SW_LDFLAGS)

# ---- tests ----
UNIT	= $(B)/test_allowlist $(B)/test_sendwrap $(B)/test_passcache \
	  $(B)/test_log
TOOLS	= $(B)/sendwrap $(B)/fakemta $(B)/test_flow $(B)/test_greet_cache \
	  $(B)/test_faults $(B)/test_listener $(if $(SAN),,$(B)/failalloc.so)

$(B)/test_allowlist: tests/test_allowlist.c allowlist.c allowlist.h
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/test_allowlist.c allowlist.c $(CMOCKA)

# sendwrap.c is included by the tests that reach its static functions.
MODS	 = listener.c peer.c log.c allowlist.c passcache.c

$(B)/test_sendwrap: tests/test_sendwrap.c $(SRCS) $(HDRS)
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/test_sendwrap.c $(MODS) $(CMOCKA)

$(B)/test_log: tests/test_log.c log.c log.h
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/test_log.c $(CMOCKA)

$(B)/test_passcache: tests/test_passcache.c tests/cachedir.h passcache.c \
    passcache.h allowlist.c allowlist.h
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/test_passcache.c passcache.c allowlist.c \
	    $(CMOCKA)

$(B)/sendwrap: $(SRCS) $(HDRS)
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ $(SRCS)

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

# The faults tests make calloc() fail through this (plain build only:
# the sanitizers keep malloc to themselves).
$(B)/failalloc.so: tests/failalloc.c
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -shared -fPIC -o $@ tests/failalloc.c

$(B)/test_listener: tests/test_listener.c tests/harness.h
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/test_listener.c $(CMOCKA)

$(B)/test_valgrind: tests/test_valgrind.c tests/harness.h
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/test_valgrind.c $(CMOCKA)

# The cmocka unit tests: no sockets, no daemons, no root.  make
# check-unit is all that the Debian package build runs (debian/rules).
run-unit: $(UNIT)
	@for t in $(UNIT); do echo "== $$t"; $$t || exit 1; done

# The unit tests, then the real binary on real loopback connections.
run-tests: run-unit $(TOOLS)
	@echo "== $(B)/test_flow"
	SENDWRAP=$(B)/sendwrap FAKEMTA=$(B)/fakemta $(B)/test_flow
	SENDWRAP=$(B)/sendwrap FAKEMTA=$(B)/fakemta $(B)/test_greet_cache
	SENDWRAP=$(B)/sendwrap FAKEMTA=$(B)/fakemta \
	    FAILALLOC=$(if $(SAN),,$(B)/failalloc.so) $(B)/test_faults
	SENDWRAP=$(B)/sendwrap FAKEMTA=$(B)/fakemta $(B)/test_listener

check-unit:
	$(MAKE) run-unit B=build/plain SAN=

check-plain:
	$(MAKE) run-tests B=build/plain SAN=

check-asan:
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(MAKE) run-tests B=build/asan SAN="$(ASAN)"

CHECKS	= check-plain check-asan

# examples/sendwrap-stats: every case under every awk installed, and its
# manual, sendwrap-stats.1, against it.
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

$(FUZZ_B)/fuzz_options: tests/fuzz/fuzz_options.c $(SRCS) $(HDRS)
	@mkdir -p $(FUZZ_B)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_options.c $(MODS)

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
	    $(SRCS)
	sh tests/check_hardening.sh -n build/nohard/sendwrap

# The real binary under valgrind's memcheck, one run per connection
# shape, up to the exec (tests/test_valgrind.c).
check-valgrind:
	@$(MAKE) --no-print-directory build/plain/sendwrap build/plain/fakemta \
	    build/plain/test_valgrind B=build/plain SAN=
	SENDWRAP=build/plain/sendwrap FAKEMTA=build/plain/fakemta \
	    build/plain/test_valgrind

CHECKS	+= check-hardening check-fuzz check-valgrind check-lint

# The Debian package (debian/, make deb) built from a clean clone,
# lintian, and the package installed, its systemd units run, removed
# and purged; and what it installs compared with make install's files
# (tests/package/run).  Needs root for apt-get; .ci/run installs the
# tools.
check-deb:
	bash tests/package/run

CHECKS	+= check-deb

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

# make install PREFIX=/usr installs the files of the Debian package at
# the same paths (tests/package/run compares the two).  The units and
# the examples name the sendwrap of SBINDIR.  /etc/sendwrap.allow goes
# in only where there is none, as it is the administrator's from then
# on: the sample's opening comments, which explain the format, and no
# entry, so that it allowlists nobody but loopback.
SED_PATHS = sed -e 's|/usr/local/sbin/sendwrap|$(SBINDIR)/sendwrap|g'
SED_UNIT = $(SED_PATHS) -e 's|^\# /etc/systemd/system/|\# $(SYSTEMDUNITDIR)/|'

install: sendwrap
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSCONFDIR)
	install -m 755 sendwrap $(DESTDIR)$(SBINDIR)/sendwrap
	install -m 755 examples/sendwrap-stats $(DESTDIR)$(BINDIR)/sendwrap-stats
	for m in $(MAN); do \
	    d=$(DESTDIR)$(MANDIR)/man$${m##*.}; \
	    install -d $$d && install -m 644 $$m $$d/$$m || exit 1; \
	done
	for u in $(SYSTEMD_UNITS); do \
	    d=$(DESTDIR)$(SYSTEMDUNITDIR)/$${u##*/}; \
	    $(SED_UNIT) $$u >$$d && chmod 644 $$d || exit 1; \
	done
	for f in $(DOCEX); do \
	    d=$(DESTDIR)$(DOCDIR)/$$f; \
	    install -d $${d%/*} && $(SED_PATHS) $$f >$$d && \
	    if [ -x $$f ]; then chmod 755 $$d; else chmod 644 $$d; fi || exit 1; \
	done
	a=$(DESTDIR)$(SYSCONFDIR)/sendwrap.allow; [ -e $$a ] || { \
	    sed -n '1,/^$$/p' examples/sendwrap.allow && \
	    echo '# No entries yet: loopback alone is allowlisted, every other peer' && \
	    echo '# waits.  $(DOCDIR)/examples/sendwrap.allow' && \
	    echo '# has one entry of each form.'; } >$$a && chmod 644 $$a

# The Debian package, from the tracked files as they are in this tree
# (untracked files and build products stay out), built in build/deb/,
# where the .deb ends up: make deb, then
# sudo apt-get install ./build/deb/sendwrap_$(VERSION)_*.deb
DEB_B	 = build/deb
deb:
	@v=$$(dpkg-parsechangelog -S Version) && [ "$$v" = "$(VERSION)" ] || \
	    { echo "debian/changelog has version $$v, the Makefile $(VERSION)" >&2; \
	    exit 1; }
	rm -rf $(DEB_B)
	mkdir -p $(DEB_B)/sendwrap-$(VERSION)
	git ls-files -z | tar --null -T - -cf - | \
	    tar -xf - -C $(DEB_B)/sendwrap-$(VERSION)
	cd $(DEB_B)/sendwrap-$(VERSION) && dpkg-buildpackage -us -uc -b
	rm -rf $(DEB_B)/sendwrap-$(VERSION)
	@ls $(DEB_B)/sendwrap_$(VERSION)_*.deb

clean:
	rm -rf sendwrap build

.PHONY: all check check-plain check-asan run-tests install clean check-man \
	check-integration demo check-stats check-teaser fuzz check-fuzz \
	check-lint check-hardening check-valgrind bench check-bench run-unit \
	check-unit check-deb deb
