using System.Text.RegularExpressions;
using Micropay.Core.Engine;

namespace Micropay.Core.Tests.Architecture;

/// <summary>
/// The dependency table of docs/ARCHITECTURE.md section 1, enforced: a namespace of the library uses only the namespaces
/// its "may use" column names (and the root namespace's shared exception base), so an arrow that points up fails here.
/// </summary>
public sealed partial class ModuleDependencyTests
{
    private const string Root = "Micropay.Core";

    [Fact]
    public void Library_EveryNamespace_UsesOnlyWhatTheArchitectureTableAllows()
    {
        Dictionary<string, HashSet<string>> allowed = AllowedByTable();
        Dictionary<(string From, string To), string> uses = NamespaceDependencies.Of(typeof(LedgerEngine).Assembly, Root);

        var violations = new List<string>();
        foreach (((string from, string to), string example) in uses.OrderBy(u => u.Key))
        {
            if (to == Root)
            {
                // The root namespace holds what every module shares (MicropayException, the base of every module's
                // exceptions), so every module may use it; what the root itself uses is checked like a module's.
                continue;
            }

            if (!allowed.TryGetValue(from, out HashSet<string>? modules))
            {
                violations.Add($"{from} is not in the table of docs/ARCHITECTURE.md section 1 ({example})");
            }
            else if (!modules.Contains(to))
            {
                violations.Add($"{from} may not use {to}: {example}");
            }
        }

        Assert.True(violations.Count == 0, "Dependencies that the architecture table does not allow:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void NamespaceDependencies_TheEngine_IsSeenUsingWhatItUses()
    {
        // The scanner must see real uses, through signatures and through method bodies alike, or the rule above would
        // pass for nothing.
        Dictionary<(string From, string To), string> uses = NamespaceDependencies.Of(typeof(LedgerEngine).Assembly, Root);
        Assert.Contains(("Micropay.Core.Engine", "Micropay.Core.Ledger"), uses.Keys);
        Assert.Contains(("Micropay.Core.Engine", "Micropay.Core.Storage"), uses.Keys);
        Assert.Contains(("Micropay.Core.Engine", "Micropay.Core.Diagnostics"), uses.Keys);
        Assert.DoesNotContain(uses.Keys, use => use.From == "Micropay.Core.Ledger" && use.To == "Micropay.Core.Engine");
    }

    [Fact]
    public void NamespaceDependencies_AUseOnlyInAMethodBody_IsSeen()
    {
        Dictionary<(string From, string To), string> uses = NamespaceDependencies.Of(typeof(ModuleDependencyTests).Assembly, "Micropay.Core.Tests.Architecture.Samples");
        Assert.Contains(("Micropay.Core.Tests.Architecture.Samples.Low", "Micropay.Core.Tests.Architecture.Samples.High"), uses.Keys);
        Assert.DoesNotContain(("Micropay.Core.Tests.Architecture.Samples.High", "Micropay.Core.Tests.Architecture.Samples.Low"), uses.Keys);
    }

    /// <summary>Module namespace to the module namespaces it may use, read from the table in docs/ARCHITECTURE.md section 1.</summary>
    private static Dictionary<string, HashSet<string>> AllowedByTable()
    {
        string text = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "ARCHITECTURE.md"));
        var rows = TableRow().Matches(text).Select(m => (Folder: m.Groups["folder"].Value, Namespace: m.Groups["namespace"].Value, MayUse: m.Groups["mayuse"].Value)).ToList();
        Assert.True(rows.Count >= 4, $"the module table was not found in docs/ARCHITECTURE.md ({rows.Count} rows)");
        Dictionary<string, string> namespaceOfModule = rows.ToDictionary(r => r.Folder, r => r.Namespace);

        // The root namespace uses only the BCL; each module what its row names (words that are module names count).
        var allowed = new Dictionary<string, HashSet<string>> { [Root] = [] };
        foreach ((string folder, string ns, string mayUse) in rows)
        {
            allowed[ns] = [.. Words().Matches(mayUse).Select(w => w.Value).Where(namespaceOfModule.ContainsKey).Select(w => namespaceOfModule[w])];
        }

        return allowed;
    }

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Micropay.Core.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("the repository root (Micropay.Core.sln) was not found above " + AppContext.BaseDirectory);
    }

    // | `Ledger/` | `Micropay.Core.Ledger` | owns | may use | status |
    [GeneratedRegex(@"^\| `(?<folder>\w+)/` \| `(?<namespace>[\w.]+)` \| [^|]* \| (?<mayuse>[^|]*) \| [^|]* \|$", RegexOptions.Multiline)]
    private static partial Regex TableRow();

    [GeneratedRegex(@"\w+")]
    private static partial Regex Words();
}
