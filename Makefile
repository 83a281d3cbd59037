# sendwrap: make, make check, make install, make clean.
# CC, CFLAGS, LDFLAGS, PREFIX and DESTDIR may be set on the command line;
# make STATIC=1 links a static-pie binary.

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
SW_CFLAGS = -D_GNU_SOURCE $(WARN) $(HARDEN) $(CFLAGS)
SW_LDFLAGS = $(LDHARDEN) $(LDFLAGS)

# Test builds: build/plain and build/asan, each with its own flags.
B	 ?= build/plain
SAN	 ?=
TEST_CFLAGS = -D_GNU_SOURCE -std=c99 -Wall -Wextra -Werror -O1 -g -I. $(SAN)
CMOCKA	 = -lcmocka
ASAN	 = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer

all: sendwrap

sendwrap: sendwrap.c allowlist.c allowlist.h
	$(CC) $(SW_CFLAGS) -o $@ sendwrap.c allowlist.c $(SW_LDFLAGS)

# ---- tests ----
UNIT	= $(B)/test_allowlist $(B)/test_sendwrap
TOOLS	= $(B)/sendwrap $(B)/fakemta $(B)/test_flow

$(B)/test_allowlist: tests/test_allowlist.c allowlist.c allowlist.h
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/test_allowlist.c allowlist.c $(CMOCKA)

$(B)/test_sendwrap: tests/test_sendwrap.c sendwrap.c allowlist.c allowlist.h
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/test_sendwrap.c allowlist.c $(CMOCKA)

$(B)/sendwrap: sendwrap.c allowlist.c allowlist.h
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ sendwrap.c allowlist.c

$(B)/fakemta: tests/fakemta.c
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/fakemta.c

$(B)/test_flow: tests/test_flow.c tests/harness.h
	@mkdir -p $(B)
	$(CC) $(TEST_CFLAGS) -o $@ tests/test_flow.c $(CMOCKA)

# The unit tests, then the real binary on real loopback connections.
run-tests: $(UNIT) $(TOOLS)
	@for t in $(UNIT); do echo "== $$t"; $$t || exit 1; done
	@echo "== $(B)/test_flow"
	SENDWRAP=$(B)/sendwrap FAKEMTA=$(B)/fakemta $(B)/test_flow

check-plain:
	$(MAKE) run-tests B=build/plain SAN=

check-asan:
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(MAKE) run-tests B=build/asan SAN="$(ASAN)"

CHECKS	= check-plain check-asan

check: sendwrap
	@for c in $(CHECKS); do $(MAKE) --no-print-directory $$c || exit 1; done
	@echo "make check: all passed"

install: sendwrap
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8
	install -m 755 sendwrap $(DESTDIR)$(SBINDIR)/sendwrap
	install -m 644 sendwrap.8 $(DESTDIR)$(MANDIR)/man8/sendwrap.8

clean:
	rm -rf sendwrap build

.PHONY: all check check-plain check-asan run-tests install clean
