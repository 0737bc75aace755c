#!/usr/bin/env bash
# Flash and RAM the strategy core costs on a Cortex-M4F (thumbv7em-none-eabihf, release, LTO,
# opt-level "s"): `size_probe` runs one Strategy<64> (windows 10/50) with no formatting at all;
# `size_baseline` is the same program without the core. Needs `rustup component add llvm-tools`.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS
cargo build --release --locked --bin size_probe --bin size_baseline --bin maestro-firmware >&2

tools="$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin"
out="$CARGO_TARGET_DIR/thumbv7em-none-eabihf/release"

# Bytes of one section of an ELF (0 when absent).
section() { "$tools/llvm-size" -A "$1" | awk -v s="$2" '$1 == s { print $2; f = 1 } END { if (!f) print 0 }'; }
# Bytes of the symbols whose demangled name contains $2.
symbols() { "$tools/llvm-nm" -C --size-sort --radix=d "$1" | awk -v p="$2" 'index($0, p) { n += $1 } END { print n + 0 }'; }

printf '%-18s %8s %8s %8s %8s\n' binary .text .rodata .data .bss
for bin in size_baseline size_probe maestro-firmware; do
  printf '%-18s %8s %8s %8s %8s\n' "$bin" \
    "$(section "$out/$bin" .text)" "$(section "$out/$bin" .rodata)" \
    "$(section "$out/$bin" .data)" "$(section "$out/$bin" .bss)"
done
for s in .text .rodata .data .bss; do
  eval "d_${s#.}=$(( $(section "$out/size_probe" "$s") - $(section "$out/size_baseline" "$s") ))"
done
printf '\ncore (size_probe - size_baseline): .text %s  .rodata %s  .data %s  .bss %s bytes\n' \
  "$d_text" "$d_rodata" "$d_data" "$d_bss"
printf 'strategy step  (maestro_step, all it inlines): %s bytes of .text\n' "$(symbols "$out/size_probe" size_probe::maestro_step)"
printf 'order planning (maestro_plan, all it inlines): %s bytes of .text\n' "$(symbols "$out/size_probe" size_probe::maestro_plan)"

# Anything the core calls instead of inlining (soft-float, 64-bit division, i128 helpers) shows here.
# Function sizes by demangled name without the hash, "bytes<TAB>name".
functions() {
  "$tools/llvm-nm" -C --size-sort --radix=d "$1" |
    awk '$2 ~ /^[tTwW]$/ { n = $1 + 0; $1 = ""; $2 = ""; sub(/^ +/, ""); sub(/::h[0-9a-f]+$/, ""); print n "\t" $0 }'
}
printf '\nfunctions in size_probe that size_baseline does not have:\n'
awk -F'\t' 'NR == FNR { base[$2] = 1; next } !($2 in base) { printf "%8d  %s\n", $1, $2 }' \
  <(functions "$out/size_baseline") <(functions "$out/size_probe")
# Direct calls, "caller -> callee", hashes dropped.
calls() {
  "$tools/llvm-objdump" -d -C --no-show-raw-insn "$1" |
    awk '/^[0-9a-f]+ </ { f = $2; sub(/:$/, "", f); next }
         /\tbl\t|\tb\.w\t/ { if (match($0, /<[^>+]*>/)) { t = substr($0, RSTART, RLENGTH); if (t != f) print f " -> " t } }' |
    sed 's/::h[0-9a-f]*>/>/g' | sort -u
}
printf '\ncalls in size_probe that size_baseline does not make:\n'
comm -13 <(calls "$out/size_baseline") <(calls "$out/size_probe") | sed 's/^/  /'
