# mx: GNU make + pkg-config.  `make` builds, `make check` runs every test,
# `make demo` shows a round trip on the local test homeserver, `make bench`
# measures, `make fuzz` runs the fuzzers for a bounded time.

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
DESTDIR ?=

CC ?= cc
CFLAGS ?= -O2 -g
WARN = -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wvla
ifeq ($(CI),true)
WARN += -Werror
endif
# Sanitizers go into the flags a command-line CFLAGS/LDFLAGS cannot override.
ifneq ($(SANITIZE),)
SAN = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer
endif

PKGS = libcurl jansson libsodium libedit libcrypto sqlite3 libcmark libmagic
# Evaluated once, after `deps` has had its chance to install what is missing.
DEP_CFLAGS = $(eval DEP_CFLAGS := $(shell pkg-config --cflags $(PKGS)))$(DEP_CFLAGS)
DEP_LIBS = $(eval DEP_LIBS := $(shell pkg-config --libs $(PKGS)))$(DEP_LIBS)
OLM_LIBS = $(eval OLM_LIBS := $(shell pkg-config --libs olm))$(OLM_LIBS)
# The programs link the small libraries statically: a process that lives
# 30 ms spends a measurable part of it relocating shared objects (see
# bench/send.sh).  STATIC_DEPS=0 links everything dynamically (distribution
# packaging, where security updates of those libraries must reach mx).
STATIC_DEPS ?= 1
ifeq ($(STATIC_DEPS),1)
PROG_LIBS = $(eval PROG_LIBS := $(shell pkg-config --libs libcurl \
	libcrypto) -Wl,-Bstatic -ljansson -lsodium -lsqlite3 -lcmark -lmagic \
	-ledit -ltinfo -lbsd -lmd -Wl,-Bdynamic $(shell pkg-config --static --libs-only-l libmagic \
	sqlite3 | sed 's/-lmagic//; s/-lsqlite3//') -ldl -lpthread)$(PROG_LIBS)
else
PROG_LIBS = $(DEP_LIBS)
endif
ALL_CFLAGS = $(WARN) -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L -Ilib \
	-Ilib/crypto $(DEP_CFLAGS) $(CFLAGS) $(SAN)

CMDS = $(patsubst cmd/%.c,%,$(wildcard cmd/mx-*.c))
LIB_SRC = $(wildcard lib/*.c lib/crypto/*.c)
HDRS = $(wildcard lib/*.h lib/crypto/*.h)
LIB_OBJ = $(LIB_SRC:.c=.o)
UNIT_SRC = $(wildcard t/unit/*.c)
UNIT = $(UNIT_SRC:.c=.t)
UNIT_HDRS = $(wildcard t/unit/*.h)
SHELL_T = $(sort $(wildcard t/[0-9]*.t))
MAN = $(wildcard man/*.[0-9])

DEPS_STAMP = .deps-ok

all: $(CMDS)

$(DEPS_STAMP): mk/deps.sh
	@sh mk/deps.sh build
	@touch $@

deps: $(DEPS_STAMP)

lib/%.o: lib/%.c $(HDRS) | $(DEPS_STAMP)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

lib/libmx.a: $(LIB_OBJ)
	rm -f $@
	ar rcs $@ $^

# The parts of programs kept in files of their own: cli.o goes into every
# program, the others into those that list them below.
CMD_OBJ = $(patsubst %.c,%.o,$(filter-out cmd/mx-%.c,$(wildcard cmd/*.c)))
$(CMD_OBJ): cmd/%.o: cmd/%.c cmd/*.h $(HDRS) | $(DEPS_STAMP)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

mx-bridge-check: cmd/bridge-probe.o cmd/bridge-rules.o
mx-keys: cmd/keys-login.o cmd/keys-devices.o cmd/keys-export.o \
	cmd/keys-delete.o cmd/keys-backup.o
mx-verify: cmd/verify-io.o cmd/verify-sas.o cmd/verify-show.o cmd/verify-xsign.o

mx-%: cmd/mx-%.c cmd/cli.o lib/libmx.a $(HDRS) cmd/*.h
	$(CC) $(ALL_CFLAGS) -Icmd -DMX_DATADIR='"$(DATADIR)"' -o $@ $< \
		$(filter cmd/%.o,$^) lib/libmx.a $(LDFLAGS) $(PROG_LIBS) -lm

# Unit tests that compare against libolm link it; nothing else ever does.
# libolm-dev is a test dependency: on a fresh machine it is installed first.
t/unit/%-libolm.t: t/unit/%-libolm.c lib/libmx.a $(HDRS) $(UNIT_HDRS) | test-deps
	$(CC) $(ALL_CFLAGS) -o $@ $< lib/libmx.a $(LDFLAGS) $(DEP_LIBS) $(OLM_LIBS) -lm

t/unit/%.t: t/unit/%.c lib/libmx.a $(HDRS) $(UNIT_HDRS)
	$(CC) $(ALL_CFLAGS) -o $@ $< lib/libmx.a $(LDFLAGS) $(DEP_LIBS) -lm

test-deps:
	@sh mk/deps.sh test

unit: $(UNIT)
	prove -e '' $(UNIT)

# The tree's own rules, before any test (mk/lint.sh says which).
lint: test-deps
	@sh mk/lint.sh

check: lint test-deps all $(UNIT)
	prove -e '' $(UNIT)
	sh t/with-synapse prove -e '' $(SHELL_T)

demo: all test-deps
	sh t/with-synapse sh mk/demo.sh

bench: all test-deps
	sh t/with-synapse sh bench/run.sh

fuzz: test-deps
	$(MAKE) -C fuzz

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(DATADIR)/bash-completion/completions \
		$(DESTDIR)$(DATADIR)/zsh/site-functions \
		$(DESTDIR)$(DATADIR)/fish/vendor_completions.d \
		$(DESTDIR)$(DATADIR)/mx
	install -m 755 $(CMDS) $(DESTDIR)$(BINDIR)
	install -m 644 data/bridge-patterns $(DESTDIR)$(DATADIR)/mx
	for m in $(MAN); do \
		install -m 644 $$m $(DESTDIR)$(MANDIR)/man$${m##*.}; done
	for c in $(CMDS); do \
		install -m 644 completions/$$c.bash \
			$(DESTDIR)$(DATADIR)/bash-completion/completions/$$c; \
		install -m 644 completions/_$$c \
			$(DESTDIR)$(DATADIR)/zsh/site-functions/_$$c; \
		install -m 644 completions/$$c.fish \
			$(DESTDIR)$(DATADIR)/fish/vendor_completions.d/$$c.fish; \
	done

clean:
	rm -f $(CMDS) cmd/*.o lib/*.o lib/crypto/*.o lib/libmx.a t/unit/*.t $(DEPS_STAMP)
	rm -rf t/trash.*

.PHONY: all deps test-deps lint unit check demo bench fuzz install clean
.SECONDARY: $(LIB_OBJ)
