using System.Runtime.CompilerServices;

namespace Micropay.Core.Ledger;

/// <summary>
/// The hash of a 128-bit id for the ledger's open-addressing tables. Ids are chosen by users, so they may be
/// sequential, time-ordered or random: the hash must scatter all of those evenly (a 64-bit finalizer from
/// MurmurHash3 over both halves). Must never change without re-hashing persisted tables (none are persisted).
/// </summary>
internal static class IdHash
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Hash(UInt128 id)
    {
        unchecked
        {
            ulong lo = (ulong)id;
            ulong hi = (ulong)(id >> 64);
            ulong h = lo ^ (hi * 0x9E3779B97F4A7C15UL) ^ 0x2545F4914F6CDD1DUL;
            h ^= h >> 33;
            h *= 0xFF51AFD7ED558CCDUL;
            h ^= h >> 33;
            h *= 0xC4CEB9FE1A85EC53UL;
            h ^= h >> 33;
            return h;
        }
    }
}
