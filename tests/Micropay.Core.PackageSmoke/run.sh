#!/usr/bin/env bash
# Installs the packed Micropay.Core package the way a user would, into a fresh `dotnet new console` project, and runs
# the smoke program against it: once as IL, once published with NativeAOT (trimming and AOT warnings are errors);
# then installs the micropay tool from the same folder and runs it.
# Usage: run.sh <folder with the .nupkg files> <version>
set -euo pipefail
packages=$(cd "$1" && pwd)
version=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A package of this version restored before (an earlier run) would be taken from the cache instead of the new one.
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/micropay.core/$version"

cd "$work"
dotnet new console --name Smoke --output Smoke >/dev/null
cd Smoke
# The local folder first, beside the machine's default source (this nuget.config lives in the temporary project only).
cat > nuget.config <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="local-packages" value="$packages" />
  </packageSources>
</configuration>
CONFIG
dotnet add package Micropay.Core --version "$version" >/dev/null
cp "$here/Program.cs" Program.cs

echo "--- the smoke program on the installed package (IL)"
dotnet run -c Release

echo "--- published with NativeAOT"
dotnet publish -c Release -r linux-x64 -p:PublishAot=true -p:TreatWarningsAsErrors=true -p:IlcTreatWarningsAsErrors=true \
    -o "$work/aot" 2>&1 | tee "$work/publish.log"
if grep -E "warning (IL|AOT)[0-9]+" "$work/publish.log"; then
    echo "NativeAOT publish reported trimming or AOT warnings" >&2
    exit 1
fi
"$work/aot/Smoke"

echo "--- the micropay tool, installed from the packed folder"
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/micropay.core.cli/$version"
dotnet tool install --tool-path "$work/tool" --add-source "$packages" Micropay.Core.Cli --version "$version"
"$work/tool/micropay" --help >/dev/null
vkey=$("$work/tool/micropay" keys new --name smoke.example --out "$work/smoke.key")
shown=$("$work/tool/micropay" keys show "$work/smoke.key")
if [ "$vkey" != "$shown" ]; then
    echo "micropay keys show printed '$shown', keys new printed '$vkey'" >&2
    exit 1
fi
echo "micropay: installed, keys new/show agree ($vkey)"
