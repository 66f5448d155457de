namespace Micropay.Core.Ledger;

/// <summary>
/// Gives an <see cref="IdIndex"/> the id stored under a value, so the index need not hold 16-byte keys.
/// Implemented by structs so the JIT specialises and inlines each use.
/// </summary>
internal interface IIdSource
{
    UInt128 IdAt(uint value);
}
