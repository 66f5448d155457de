namespace Micropay.Core.Cli.Tests;

/// <summary>
/// The tests that use the fixture's ledger run one after another: each run of the tool that opens the ledger takes its
/// store lock, which a second process opening it at the same time would find held.
/// </summary>
[CollectionDefinition(Name)]
public sealed class LedgerCollection : ICollectionFixture<LedgerFixture>
{
    public const string Name = "ledger";
}
