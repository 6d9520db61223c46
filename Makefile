# Front door to the CMake build. `make run` and `make test` are all a fresh Debian 12
# machine needs; both install missing packages first (.ci/deps).
BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc)
CONF ?= conf/shoal.yaml
# Extra CMake settings for the configure step, e.g. -DSHOAL_WERROR=ON (what CI uses).
CMAKE_FLAGS ?=

.PHONY: all deps build run test test-asan bench fuzz clean install uninstall

# `make install`: PREFIX for the binary, man pages and unit; SYSCONFDIR for the config;
# DESTDIR (empty by default) is prepended to every path, for packaging. SHOAL_BIN is the
# binary to install (`make build` makes it).
PREFIX ?= /usr/local
SYSCONFDIR ?= /etc
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
# Where the shipped config writes its logs (systemd's LogsDirectory=shoal makes it too; without
# systemd the start, and `shoal -t`, need it to exist).
LOGDIR ?= /var/log/shoal
SHOAL_BIN ?= $(BUILD_DIR)/shoal

all: build

deps:
	@bash .ci/deps

# Makefile, not CMakeCache.txt: a configure that failed (a package missing) leaves a cache
# behind, and the next `make build` must configure again rather than call a missing Makefile.
$(BUILD_DIR)/Makefile:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)

# `make build` (and so `make run`) builds only what serving needs: the shoal binary. The test
# binaries take most of the compile time and are built by `make test`.
build: $(BUILD_DIR)/Makefile
	cmake --build $(BUILD_DIR) -j $(JOBS) --target shoal

run: deps build
	mkdir -p $(dir $(CONF))logs
	./$(BUILD_DIR)/shoal -c $(CONF)

test: deps $(BUILD_DIR)/Makefile
	cmake --build $(BUILD_DIR) -j $(JOBS)
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

# The whole suite under AddressSanitizer and UndefinedBehaviorSanitizer (Debug build). A small
# quarantine keeps freed memory from looking like growth to the memory-bound tests.
test-asan: deps
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSHOAL_SANITIZE=ON
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=quarantine_size_mb=8 ctest --output-on-failure -j $(JOBS)

# libFuzzer targets (clang, with ASan and UBSan), each run for FUZZ_SECONDS. New inputs go to
# build-fuzz/corpus/<target>; the seeds in tests/fuzz/corpus are only read. A crash stops the
# run and leaves crash-* in the current directory.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= request config range frame response proxy status_query
fuzz:
	@bash .ci/deps fuzz
	cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang-14 \
	  -DCMAKE_CXX_COMPILER=clang++-14 -DSHOAL_FUZZ=ON
	cmake --build build-fuzz -j $(JOBS) --target $(addsuffix _fuzz,$(FUZZ_TARGETS))
	for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t && \
	  ./build-fuzz/$${t}_fuzz -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    build-fuzz/corpus/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

# shoal against nginx and h2o on this machine (bench/run.sh; RECORD=1 appends to RESULTS.md).
bench: deps
	bash bench/run.sh $(ROUNDS) $(SECONDS)

clean:
	rm -rf $(BUILD_DIR) build-asan build-fuzz

# Configuration files are installed only where none exists: an operator's edits survive.
install:
	@test -x $(SHOAL_BIN) || { echo "install: no $(SHOAL_BIN); run make build first" >&2; exit 1; }
	install -D -m 0755 $(SHOAL_BIN) $(DESTDIR)$(SBINDIR)/shoal
	install -D -m 0644 man/shoal.8 $(DESTDIR)$(MANDIR)/man8/shoal.8
	install -D -m 0644 man/shoal.yaml.5 $(DESTDIR)$(MANDIR)/man5/shoal.yaml.5
	install -d $(DESTDIR)$(SYSCONFDIR)/shoal/www $(DESTDIR)$(SYSCONFDIR)/logrotate.d \
	  $(DESTDIR)$(LOGDIR)
	test -e $(DESTDIR)$(SYSCONFDIR)/shoal/shoal.yaml || \
	  install -m 0644 conf/system/shoal.yaml $(DESTDIR)$(SYSCONFDIR)/shoal/shoal.yaml
	test -e $(DESTDIR)$(SYSCONFDIR)/shoal/mime.types || \
	  install -m 0644 conf/mime.types $(DESTDIR)$(SYSCONFDIR)/shoal/mime.types
	test -e $(DESTDIR)$(SYSCONFDIR)/shoal/www/index.html || \
	  install -m 0644 conf/system/www/index.html $(DESTDIR)$(SYSCONFDIR)/shoal/www/index.html
	test -e $(DESTDIR)$(SYSCONFDIR)/logrotate.d/shoal || \
	  sed -e 's|/usr/local/sbin/|$(SBINDIR)/|g' -e 's|/etc/shoal/|$(SYSCONFDIR)/shoal/|g' \
	    conf/logrotate/shoal > $(DESTDIR)$(SYSCONFDIR)/logrotate.d/shoal
	install -d $(DESTDIR)$(UNITDIR)
	sed -e 's|/usr/local/sbin/|$(SBINDIR)/|g' -e 's|/etc/shoal/|$(SYSCONFDIR)/shoal/|g' \
	  systemd/shoal.service > $(DESTDIR)$(UNITDIR)/shoal.service
	install -m 0644 systemd/shoal.socket $(DESTDIR)$(UNITDIR)/shoal.socket
	@echo "installed; then: systemctl daemon-reload && systemctl enable --now shoal"

# Leaves $(SYSCONFDIR)/shoal and the logs, as removing a Debian package does.
uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/shoal $(DESTDIR)$(MANDIR)/man8/shoal.8 \
	  $(DESTDIR)$(MANDIR)/man5/shoal.yaml.5 $(DESTDIR)$(UNITDIR)/shoal.service \
	  $(DESTDIR)$(UNITDIR)/shoal.socket
	@echo "kept $(DESTDIR)$(SYSCONFDIR)/shoal and $(DESTDIR)$(SYSCONFDIR)/logrotate.d/shoal"
