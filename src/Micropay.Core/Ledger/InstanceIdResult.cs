namespace Micropay.Core.Ledger;

/// <summary>The outcome of setting a ledger's instance id (the first batch of every new ledger).</summary>
internal enum InstanceIdResult : uint
{
    /// <summary>The id was set.</summary>
    Ok = 0,

    /// <summary>The ledger already has this id: a replayed or repeated set.</summary>
    Exists = 1,

    /// <summary>The ledger already has another id; ids never change.</summary>
    ExistsWithDifferentId = 2,

    /// <summary>The id was 0, which means "not set".</summary>
    IdMustNotBeZero = 3,
}
