#!/usr/bin/env bash
# Coverage-guided fuzzing of Micropay.Core's parsers with SharpFuzz and AFL++ (see README.md beside this file).
#
#   tests/Micropay.Core.Fuzz/fuzz.sh <target[,target...]|all> <seconds>
#
# Installs what is missing (afl++ from the distribution, as root; the SharpFuzz.CommandLine tool as a local tool under
# artifacts/), builds the fuzz program, instruments its copy of Micropay.Core.dll with sharpfuzz, runs afl-fuzz for
# <seconds> per target (with "all", FUZZ_JOBS targets at a time, 4 by default, each under nice -n 10), then prints each
# target's figures and copies its crashes and hangs to artifacts/fuzz/findings/<target>/. Everything it writes is under
# artifacts/ (ignored by git); only the seed corpus (corpus/<target>/) is checked in.
#
# AFL++ settings and why:
#   AFL_SKIP_BIN_CHECK=1                       the program is `dotnet`, not an afl-instrumented binary; SharpFuzz's
#                                              instrumentation of Micropay.Core.dll provides the coverage map
#   AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1    containers cannot set /proc/sys/kernel/core_pattern; crashes are still
#                                              seen (SharpFuzz reports an exception as a crash through the fork server)
#   AFL_NO_AFFINITY=1                          the cores are shared with other work: do not pin to one
#   AFL_SKIP_CPUFREQ=1                         no CPU governor to check in a container
#   AFL_NO_UI=1                                plain status lines in the log instead of the curses screen
#   AFL_FORKSRV_INIT_TMOUT=120000              the .NET runtime starts slowly, slower still with 4 fuzzers on 2 cores
#   -t 10000 -m none                           per-input timeout in ms (JIT of a new path is slow); no memory limit (the
#                                              runtime reserves far more address space than AFL's default allows)
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 <target[,target...]|all> <seconds>" >&2
  exit 2
fi

target="$1"
seconds="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$repo/artifacts/fuzz"
tools="$work/tools"
bin="$work/bin"
jobs="${FUZZ_JOBS:-4}"

if ! command -v afl-fuzz >/dev/null; then
  apt-get update
  apt-get install -y afl++
fi

if [[ ! -x "$tools/sharpfuzz" ]]; then
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$tools"
fi

# A fresh copy each time: sharpfuzz instruments in place, and an instrumented dll must not be instrumented again.
dotnet build "$here/Micropay.Core.Fuzz.csproj" -c Release -o "$work/build" --nologo -v quiet
rm -rf "$bin"
cp -r "$work/build" "$bin"
"$tools/sharpfuzz" "$bin/Micropay.Core.dll"

if [[ "$target" == "all" ]]; then
  targets="$(dotnet "$bin/Micropay.Core.Fuzz.dll" list)"
else
  targets="${target//,/ }"
fi

run_one() {
  local t="$1"
  local out="$work/afl/$t"
  rm -rf "$out"
  mkdir -p "$out"
  echo "$(date -u +%FT%TZ) fuzzing $t for $seconds s"
  AFL_SKIP_BIN_CHECK=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_NO_UI=1 \
    AFL_FORKSRV_INIT_TMOUT=120000 \
    nice -n 10 afl-fuzz -V "$seconds" -t 10000 -m none -i "$here/corpus/$t" -o "$out" \
    -- dotnet "$bin/Micropay.Core.Fuzz.dll" fuzz "$t" >"$out.log" 2>&1 || echo "afl-fuzz for $t exited $? (see $out.log)"
}
export -f run_one
export work here bin seconds

printf '%s\n' $targets | xargs -P "$jobs" -I{} bash -c 'run_one {}'

status=0
for t in $targets; do
  stats="$work/afl/$t/default/fuzzer_stats"
  if [[ ! -f "$stats" ]]; then
    echo "$t: no fuzzer_stats (see $work/afl/$t.log)"
    status=1
    continue
  fi

  get() { awk -F' *: *' -v k="$1" '$1 == k { print $2 }' "$stats"; }
  echo "$t: run_time=$(get run_time)s execs_done=$(get execs_done) execs_per_sec=$(get execs_per_sec) corpus_count=$(get corpus_count) bitmap_cvg=$(get bitmap_cvg) saved_crashes=$(get saved_crashes) saved_hangs=$(get saved_hangs)"
  findings="$work/findings/$t"
  rm -rf "$findings"
  for kind in crashes hangs; do
    if compgen -G "$work/afl/$t/default/$kind/id:*" >/dev/null; then
      mkdir -p "$findings/$kind"
      cp "$work/afl/$t/default/$kind"/id:* "$findings/$kind/"
      status=1
    fi
  done
done

exit "$status"
