# natter: build, run, test, install.
#
#   make run       install missing packages, build, start the TUI on the default config
#   make check     build with ASan+UBSan and run every test; ends with "N passed, N failed"
#   make soak      kill -9 the interface mid-stream SOAK_N times (100) and check the database
#   make           release build in build/release/natter (installs nothing: see make deps)
#   make deps      install the missing packages (.ci/deps; run, check, soak, fuzz and bench
#                  do it first, nothing else does)
#   make lib       libnatter.a, libnatter.so and natter.pc in build/release
#   make install   PREFIX=/usr/local DESTDIR= (also MANPREFIX, LIBDIR, INCLUDEDIR)
#   make fuzz      long libFuzzer runs (FUZZ_SECONDS per target)
#   make bench     benchmarks in tests/bench (figures, not pass/fail)

PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
DATADIR    ?= $(PREFIX)/share/natter
MANPREFIX  ?= $(PREFIX)/share/man
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DESTDIR    ?=
PKG_CONFIG ?= pkg-config
CC         ?= cc
FUZZ_CC    ?= clang
FUZZ_SECONDS ?= 120
SOAK_N     ?= 100

MODE ?= release
BUILD = build/$(MODE)

# Libraries, resolved lazily so that `make run` on a fresh machine installs them first.
# .ci/deps reads this line to know what pkg-config must find on a system without apt.
PKGS = libcurl libcjson yaml-0.1 sqlite3 ncursesw libutf8proc md4c libmicrohttpd libmagic nettle
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS))
# Start-up is a feature: every shared object costs the loader time at each start, so the
# libraries Debian ships as archives are linked statically (STATIC=0 links all dynamically).
STATIC ?= 1
# libmicrohttpd's archive needs gnutls, which libcurl loads anyway; libmagic's needs the
# lzma and bzip2 archives (its compressed-file support). nettle (SHA-256, base64 of
# attachments) is loaded by gnutls anyway, so it stays a shared object.
STATIC_PKGS = sqlite3 yaml-0.1 libutf8proc ncursesw libmicrohttpd libmagic
ifeq ($(STATIC),1)
PKG_LIBS = -Wl,-Bstatic $(shell $(PKG_CONFIG) --libs-only-l $(STATIC_PKGS)) -llzma -lbz2 -Wl,-Bdynamic \
	$(shell $(PKG_CONFIG) --libs $(filter-out $(STATIC_PKGS),$(PKGS))) -lgnutls -lz -ldl
else
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS))
endif

# Every object is position-independent, so the same objects make the binary, libnatter.a
# and libnatter.so.
WARN = -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Werror
STD  = -std=c11 -D_GNU_SOURCE
ifeq ($(MODE),asan)
OPT = -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
else
OPT = -O2 -g
endif
OPT += -fPIC
CPPFLAGS_ALL = -Isrc -Iui -DNATTER_DATADIR='"$(DATADIR)"' -DNATTER_SRCDIR='"$(CURDIR)"'
CFLAGS_ALL = $(STD) $(WARN) $(OPT) $(CPPFLAGS_ALL) $(PKG_CFLAGS) -MMD -MP $(CFLAGS)
LDFLAGS_ALL = $(OPT) -Wl,--as-needed $(LDFLAGS)
LIBS_ALL = $(PKG_LIBS) -lpthread -lm

SRC_C   = $(filter-out src/main.c,$(wildcard src/*.c))
UI_C    = $(wildcard ui/*.c)
LIB_O   = $(SRC_C:%.c=$(BUILD)/%.o)
# libnatter: the curses-free core without the command-line front ends (src/cmd-*.c) and
# the HTTP front end (src/serve*.c, which needs libmicrohttpd).
CORE_C  = $(filter-out src/cmd-%.c src/serve%.c,$(SRC_C))
CORE_O  = $(CORE_C:%.c=$(BUILD)/%.o)
CMD_O   = $(filter $(BUILD)/src/cmd-%.o $(BUILD)/src/serve%.o,$(LIB_O))
API_VERSION = 1
# The shared library links every library dynamically (the archives Debian ships are not
# built for shared objects) and exports only the natter_* functions of natter.h.
SO_PKGS = libcurl libcjson yaml-0.1 sqlite3 libutf8proc md4c libmagic nettle
UI_O    = $(UI_C:%.c=$(BUILD)/%.o)
MAIN_O  = $(BUILD)/src/main.o
UNIT_C  = $(wildcard tests/unit/test_*.c)
UNIT_B  = $(UNIT_C:tests/unit/%.c=$(BUILD)/tests/%)
FAKE_C  = $(wildcard tests/fakeserver/*.c)
FAKE_B  = $(if $(FAKE_C),$(BUILD)/fakeserver)
MCPS_C  = $(wildcard tests/mcp/*.c)
MCPS_B  = $(if $(MCPS_C),$(BUILD)/mcpserver)
FUZZ_C  = $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_B  = $(FUZZ_C:tests/fuzz/%.c=build/fuzz/%)

.PHONY: all deps build run check soak tests fuzz fuzz-build bench install uninstall clean asan lib

# Keep intermediate objects (the fuzz objects are built through a pattern chain).
.SECONDARY:

# Building installs nothing: only the targets that run natter or its tests call .ci/deps.
all: build

deps:
	@.ci/deps

build: $(BUILD)/natter

asan:
	@$(MAKE) --no-print-directory MODE=asan build

run: deps
	@$(MAKE) --no-print-directory build
	./$(BUILD)/natter

check: deps
	@$(MAKE) --no-print-directory MODE=asan tests
	@$(MAKE) --no-print-directory fuzz-build
	@tests/run.sh build/asan build/fuzz $(TEST)

# The kill -9 loop of tests/integration/kill9.sh, long: `make check` runs a few rounds.
soak: deps
	@$(MAKE) --no-print-directory MODE=asan tests
	@SOAK_N=$(SOAK_N) tests/run.sh build/asan build/fuzz integration/kill9.sh

tests: $(BUILD)/natter $(UNIT_B) $(FAKE_B) $(MCPS_B) $(BUILD)/libnatter.a $(BUILD)/libnatter.so $(BUILD)/natter.pc

lib: $(BUILD)/libnatter.a $(BUILD)/libnatter.so $(BUILD)/natter.pc

# V=1 shows full command lines.
Q = $(if $(V),,@)
SRCS = $(filter %.c %.o,$^)

$(BUILD)/natter: $(MAIN_O) $(CMD_O) $(UI_O) $(BUILD)/libnatter.a
	@echo "  LD      $@"
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o,$^) $(BUILD)/libnatter.a $(LIBS_ALL)

$(BUILD)/libnatter.a: $(CORE_O)
	@echo "  AR      $@"
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/libnatter.so: $(CORE_O) src/natter.map
	@echo "  LD      $@"
	$(Q)$(CC) -shared $(LDFLAGS_ALL) -Wl,-soname,libnatter.so.$(API_VERSION) \
		-Wl,--version-script=src/natter.map -o $@ $(CORE_O) \
		$(shell $(PKG_CONFIG) --libs $(SO_PKGS)) -lpthread -lm
	$(Q)ln -sf libnatter.so $(@D)/libnatter.so.$(API_VERSION)

# The pkg-config file for PREFIX (install writes it again for the PREFIX it is given).
PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	-e 's|@VERSION@|$(shell sed -n "s/^\#define NATTER_VERSION \"\(.*\)\"/\1/p" src/version.h)|' \
	-e 's|@REQUIRES@|$(SO_PKGS)|' src/natter.pc.in
$(BUILD)/natter.pc: src/natter.pc.in Makefile
	@mkdir -p $(@D)
	$(Q)$(PC_SED) >$@

# Objects are rebuilt when the compiler flags change (a stamp holding them).
FLAGS_STAMP = $(BUILD)/.cflags
ifneq ($(file <$(FLAGS_STAMP)),$(CC) $(CFLAGS_ALL))
$(shell mkdir -p $(BUILD))
$(file >$(FLAGS_STAMP),$(CC) $(CFLAGS_ALL))
endif

$(BUILD)/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(@D)
	@echo "  CC      $<"
	$(Q)$(CC) $(CFLAGS_ALL) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIB_O) $(UI_O)
	@mkdir -p $(@D)
	@echo "  TEST    $@"
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $(SRCS) $(LIBS_ALL) -lcmocka

$(BUILD)/fakeserver: $(FAKE_C) $(wildcard tests/fakeserver/*.h) $(BUILD)/src/buf.o $(BUILD)/src/xmalloc.o $(BUILD)/src/log.o $(BUILD)/src/secret.o $(BUILD)/src/sha256.o
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $(SRCS) $(LIBS_ALL)

# The test MCP server (tests/mcp): a stdio program of its own, cJSON only, built without
# the sanitizers because the client under test gives it no ASAN_OPTIONS and it exits on
# purpose with memory held (a leak report would change its exit status).
$(BUILD)/mcpserver: $(MCPS_C)
	@mkdir -p $(@D)
	@echo "  LD      $@"
	$(Q)$(CC) $(STD) $(WARN) -O1 -g $(shell $(PKG_CONFIG) --cflags libcjson libmicrohttpd) \
		-o $@ $(MCPS_C) $(shell $(PKG_CONFIG) --libs libcjson libmicrohttpd) -lpthread

# Fuzz targets: libFuzzer with ASan+UBSan, built from the library sources with clang.
FUZZ_COMMON = $(STD) -g -O1 -fno-sanitize-recover=all $(CPPFLAGS_ALL) $(PKG_CFLAGS) -Wall -Wextra -Werror
FUZZ_FLAGS = $(FUZZ_COMMON) -fsanitize=fuzzer,address,undefined
fuzz-build: $(FUZZ_B)

# The curses-free parts of the interface that parse untrusted or typed input are fuzzed too.
FUZZ_UI_C = ui/highlight.c ui/latex.c ui/fuzzy.c ui/termreport.c
FUZZ_O = $(SRC_C:%.c=build/fuzz/obj/%.o)
FUZZ_UI_O = $(FUZZ_UI_C:%.c=build/fuzz/obj/%.o)

build/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	@echo "  FUZZCC  $<"
	$(Q)$(FUZZ_CC) $(FUZZ_COMMON) -fsanitize=fuzzer-no-link,address,undefined -MMD -MP -c -o $@ $<

build/fuzz/%: tests/fuzz/%.c $(FUZZ_O) $(FUZZ_UI_O)
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(SRCS) $(LIBS_ALL)

# The multipart parser is the fake server's, not natter's.
build/fuzz/fuzz_multipart: tests/fuzz/fuzz_multipart.c tests/fakeserver/fs-multipart.c \
		tests/fakeserver/fs-multipart.h $(FUZZ_O)
	@mkdir -p $(@D)
	@echo "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -Itests/fakeserver -o $@ $(SRCS) $(LIBS_ALL)

fuzz: deps fuzz-build
	@for f in $(FUZZ_B); do \
		n=$$(basename $$f); mkdir -p tests/fuzz/corpus-work/$$n; \
		echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) tests/fuzz/corpus-work/$$n tests/fuzz/corpus/$$n || exit 1; \
	done

# The worker benchmark driver: N streams through one worker (tests/bench/stream.sh).
$(BUILD)/bench_worker: tests/bench/bench_worker.c $(LIB_O)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $(filter %.c %.o,$^) $(LIBS_ALL)

# The large-store generator the benchmarks share (tests/bench/big-store, huge-store) and the
# search, session-list and long-session drivers (tests/bench/search.sh, sessions.sh, huge.sh).
$(BUILD)/gen_store $(BUILD)/bench_search $(BUILD)/bench_session: $(BUILD)/%: tests/bench/%.c $(LIB_O)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $(filter %.c %.o,$^) $(LIBS_ALL)

# The interleaving timer the streaming benchmarks use (tests/bench/stream.sh).
$(BUILD)/bench_run: tests/bench/bench_run.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $<

bench: deps
	@$(MAKE) --no-print-directory build
	@$(MAKE) --no-print-directory MODE=release $(BUILD)/fakeserver $(BUILD)/bench_worker \
		$(BUILD)/gen_store $(BUILD)/bench_search $(BUILD)/bench_session $(BUILD)/bench_run
	@for b in $(filter-out tests/bench/lib.sh,$(wildcard tests/bench/*.sh)); do echo "== $$b"; sh $$b build/release || exit 1; done

install: build lib
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANPREFIX)/man1 $(DESTDIR)$(MANPREFIX)/man5 \
		$(DESTDIR)$(MANPREFIX)/man3 $(DESTDIR)$(DATADIR)/themes $(DESTDIR)$(DATADIR)/syntax \
		$(DESTDIR)$(LIBDIR)/pkgconfig \
		$(DESTDIR)$(INCLUDEDIR)
	install -m 755 $(BUILD)/natter $(DESTDIR)$(BINDIR)/natter
	install -m 644 man/natter.1 $(DESTDIR)$(MANPREFIX)/man1/natter.1
	install -m 644 man/natter.3 $(DESTDIR)$(MANPREFIX)/man3/natter.3
	install -m 644 src/natter.h $(DESTDIR)$(INCLUDEDIR)/natter.h
	install -m 644 $(BUILD)/libnatter.a $(DESTDIR)$(LIBDIR)/libnatter.a
	install -m 755 $(BUILD)/libnatter.so $(DESTDIR)$(LIBDIR)/libnatter.so.$(API_VERSION)
	ln -sf libnatter.so.$(API_VERSION) $(DESTDIR)$(LIBDIR)/libnatter.so
	$(PC_SED) >$(DESTDIR)$(LIBDIR)/pkgconfig/natter.pc
	if [ -f man/natter.yaml.5 ]; then install -m 644 man/natter.yaml.5 $(DESTDIR)$(MANPREFIX)/man5/natter.yaml.5; fi
	for f in config/*.yaml; do install -m 644 "$$f" $(DESTDIR)$(DATADIR)/; done
	for t in themes/*; do [ -f "$$t" ] && install -m 644 "$$t" $(DESTDIR)$(DATADIR)/themes/ || true; done
	for t in syntax/*.nanorc; do install -m 644 "$$t" $(DESTDIR)$(DATADIR)/syntax/; done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/natter $(DESTDIR)$(MANPREFIX)/man1/natter.1 \
		$(DESTDIR)$(MANPREFIX)/man5/natter.yaml.5 $(DESTDIR)$(MANPREFIX)/man3/natter.3 \
		$(DESTDIR)$(INCLUDEDIR)/natter.h $(DESTDIR)$(LIBDIR)/libnatter.a \
		$(DESTDIR)$(LIBDIR)/libnatter.so $(DESTDIR)$(LIBDIR)/libnatter.so.$(API_VERSION) \
		$(DESTDIR)$(LIBDIR)/pkgconfig/natter.pc
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build

-include $(wildcard $(BUILD)/src/*.d $(BUILD)/ui/*.d $(BUILD)/tests/*.d build/fuzz/obj/src/*.d \
	build/fuzz/obj/ui/*.d)
