namespace Micropay.Core.Fuzz.Tests;

/// <summary>The checked-in seed corpus (tests/Micropay.Core.Fuzz/corpus/&lt;target&gt;/), copied beside the tests.</summary>
internal static class Corpus
{
    public static string Root => Path.Combine(AppContext.BaseDirectory, "corpus");

    public static byte[][] Files(string target) =>
        [.. Directory.EnumerateFiles(Path.Combine(Root, target)).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)];

    public static IEnumerable<string> Names(string target) =>
        Directory.EnumerateFiles(Path.Combine(Root, target)).Select(Path.GetFileName).Order(StringComparer.Ordinal)!;
}
