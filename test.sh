#!/usr/bin/env bash
# The README's test command: installs what the tests use when it is missing, then runs
# `cargo test` on the whole workspace, the daemon and the checker (crates/nianbao-check)
# (extra arguments are passed on, e.g. `./test.sh --test daemon`).
#
# The tests use real parts, never stand-ins:
#   aiosmtpd (PyPI)                        the SMTP server of the mail tests, on 127.0.0.1
#   poppler-utils, poppler-data            pdftotext and the CJK CMaps, for PDF reports
#   libreoffice-writer/calc-nogui          .doc/.wps/.et/.odt reports, and PDFs made from docx
#   fonts-wqy-zenhei, fonts-noto-cjk       the two CJK fonts LibreOffice renders test PDFs with
#   prometheus                             promtool, which validates the /metrics output
#   tesseract-ocr, tesseract-ocr-chi-sim   OCR of scanned reports (tests/scan.rs)
#   chromium, chromium-driver              headless browser for the rendered email and console
#   cargo-deb (crates.io, into .ci/tools)  builds the .deb whose upgrade the service test tries
#   dpkg-dev, procps                       dpkg-shlibdeps for cargo-deb; pkill for that test
# Debian packages are installed with apt-get (as root, or through sudo); nothing is
# downloaded outside the distribution's and PyPI's registries, nothing is cached outside
# this checkout.
set -euo pipefail
cd "$(dirname "$0")"

as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
need() { # need PACKAGE TEST-COMMAND...
    local pkg="$1"
    shift
    if ! "$@" >/dev/null 2>&1; then missing+=("$pkg"); fi
}
need poppler-utils command -v pdftotext
need poppler-data test -d /usr/share/poppler/cMap
need libreoffice-writer-nogui command -v soffice
need libreoffice-calc-nogui test -e /usr/lib/libreoffice/program/libsclo.so
need fonts-wqy-zenhei test -d /usr/share/fonts/truetype/wqy
need fonts-noto-cjk test -d /usr/share/fonts/opentype/noto
need prometheus command -v promtool
need tesseract-ocr command -v tesseract
need tesseract-ocr-chi-sim test -e /usr/share/tesseract-ocr/5/tessdata/chi_sim.traineddata
need chromium command -v chromium
need chromium-driver command -v chromedriver
need python3 command -v python3
need dpkg-dev command -v dpkg-shlibdeps
need procps command -v pkill
if [ "${#missing[@]}" -gt 0 ]; then
    echo "test.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -qq
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! python3 -c 'import aiosmtpd' 2>/dev/null; then
    echo "test.sh: installing aiosmtpd"
    # A Debian python3 refuses pip into the system (PEP 668): take Debian's package there.
    python3 -m pip install --quiet --disable-pip-version-check aiosmtpd 2>/dev/null \
        || as_root apt-get install -y -qq --no-install-recommends python3-aiosmtpd >/dev/null
fi

# The package's upgrade test (tests/service.rs) installs two builds of the .deb with apt:
# only as root, and only where no nianbao package is installed (CI's clean container).
# cargo-deb lives inside the checkout (.ci/tools, ignored by git), as cargo-fuzz does.
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null \
    && ! dpkg-query -W nianbao >/dev/null 2>&1; then
    if [ ! -x .ci/tools/bin/cargo-deb ]; then
        echo "test.sh: installing cargo-deb into .ci/tools"
        cargo install --quiet --locked --root .ci/tools cargo-deb
    fi
    export NIANBAO_DEB_TEST=1
else
    echo "test.sh: the .deb upgrade test is skipped (needs root and no installed nianbao package)"
fi

# Every failing suite is reported, not only the first one.
cargo test --workspace --no-fail-fast "$@"
