using System.Buffers.Binary;
using System.Security.Cryptography;
using Micropay.Core.Crypto;

namespace Micropay.Core.Channels;

/// <summary>
/// The payer's side of a hash-chain channel: derives the chain from a secret seed and hands out the next tick. Keeps
/// O(√n) words, not n: a checkpoint every ⌈√n⌉ positions (made in the one pass of n hashes that computes the root) and
/// the words of the segment being paid from, computed from its checkpoint when the payments enter it (⌈√n⌉ hashes), so a
/// run of single-unit ticks costs one hash each on average. Thread-safe: <see cref="NextTick"/> takes a lock.
/// </summary>
/// <remarks>
/// <para>For n = 1,000,000: 1,000 checkpoints and a 1,000-word segment, 64 KB in all (the whole chain would be 32 MB).</para>
/// <para>
/// The seed is the payer's money: anyone holding it can reveal every word. <see cref="ExportState"/> (seed, length, and
/// the ticks handed out, so a restart never reveals an old index as if new) refuses unless the wallet was created with
/// <see cref="KeyExportPolicy.AllowExport"/>; <see cref="ToString"/> never shows it; <see cref="Dispose"/> wipes it.
/// </para>
/// <para>State layout (little-endian): version (4) = 1, length (4), spent (4), reserved (4) = 0, seed (32).</para>
/// </remarks>
public sealed class HashChainWallet : IDisposable
{
    private const uint StateVersion = 1;
    private const int StateSize = 48;
    private const int WordSize = HashChain.WordSize;

    private readonly Lock _lock = new();
    private readonly KeyExportPolicy _exportPolicy;
    private readonly byte[] _seed;
    private readonly byte[] _root = new byte[WordSize];

    // Checkpoint m holds the word at position Length - m * _step (positions from the seed end: checkpoint 0 is the seed).
    private readonly byte[] _checkpoints;
    private readonly uint _step;

    // The segment paid from: _segment[j] is the word at position _segmentTop - j, for j < _step; _segmentTop 0 means none.
    private readonly byte[] _segment;
    private uint _segmentTop;
    private bool _disposed;

    private HashChainWallet(ReadOnlySpan<byte> seed, uint length, uint spent, KeyExportPolicy exportPolicy)
    {
        ArgumentOutOfRangeException.ThrowIfZero(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(spent, length);
        if (seed.Length != WordSize)
        {
            throw new ArgumentException("A chain's seed is 32 bytes.", nameof(seed));
        }

        if (exportPolicy is not (KeyExportPolicy.None or KeyExportPolicy.AllowExport))
        {
            throw new ArgumentOutOfRangeException(nameof(exportPolicy), exportPolicy, "Unknown export policy.");
        }

        Length = length;
        Spent = spent;
        _exportPolicy = exportPolicy;
        _seed = seed.ToArray();
        _step = (uint)Math.Ceiling(Math.Sqrt(length));
        int count = (int)(((length - 1) / _step) + 1);
        _checkpoints = new byte[count * WordSize];
        _segment = new byte[_step * WordSize];

        // One pass down the chain: the word at position p, from p = Length (the seed) to 0 (the root).
        Span<byte> word = stackalloc byte[WordSize];
        seed.CopyTo(word);
        for (uint p = length; ; p--)
        {
            if ((length - p) % _step == 0 && p >= 1)
            {
                word.CopyTo(_checkpoints.AsSpan((int)((length - p) / _step) * WordSize, WordSize));
            }

            if (p == 0)
            {
                break;
            }

            Blake2b256.Hash(word, word);
        }

        word.CopyTo(_root);
        CryptographicOperations.ZeroMemory(word);
    }

    /// <summary>n: the units the chain can pay in all.</summary>
    public uint Length { get; }

    /// <summary>The units handed out so far (the index of the last tick).</summary>
    public uint Spent { get; private set; }

    /// <summary>The units left.</summary>
    public uint Remaining => Length - Spent;

    /// <summary>The words the wallet keeps (checkpoints and the cached segment): O(√n); for tests.</summary>
    internal int StoredWords => (_checkpoints.Length + _segment.Length) / WordSize;

    /// <summary>The chain's root, for the channel config (<see cref="ChannelConfig.CreateHashChain"/>).</summary>
    public ReadOnlySpan<byte> Root => _root;

    /// <summary>A new chain with a random seed from the operating system's cryptographic generator.</summary>
    /// <param name="length">n, the units it can pay; not 0.</param>
    /// <param name="exportPolicy">Whether <see cref="ExportState"/> may export the seed.</param>
    /// <returns>The wallet (computing the root took <paramref name="length"/> hashes).</returns>
    public static HashChainWallet Create(uint length, KeyExportPolicy exportPolicy = KeyExportPolicy.None)
    {
        Span<byte> seed = stackalloc byte[WordSize];
        RandomNumberGenerator.Fill(seed);
        try
        {
            return new HashChainWallet(seed, length, 0, exportPolicy);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>A chain from a known seed (a restore, or a deterministic test).</summary>
    /// <param name="seed">The 32-byte seed.</param>
    /// <param name="length">n.</param>
    /// <param name="spent">The ticks already handed out: the next tick's index is above it.</param>
    /// <param name="exportPolicy">Whether <see cref="ExportState"/> may export the seed.</param>
    /// <returns>The wallet.</returns>
    /// <exception cref="ArgumentException">The seed is not 32 bytes, the length is 0 or <paramref name="spent"/> is past it.</exception>
    public static HashChainWallet FromSeed(ReadOnlySpan<byte> seed, uint length, uint spent = 0, KeyExportPolicy exportPolicy = KeyExportPolicy.None) =>
        new(seed, length, spent, exportPolicy);

    /// <summary>Restores a wallet from <see cref="ExportState"/>'s bytes; never throws on bad bytes.</summary>
    /// <param name="state">The exported state.</param>
    /// <param name="exportPolicy">The restored wallet's export policy.</param>
    /// <param name="wallet">The wallet, when the state is well formed.</param>
    /// <returns>Whether it was.</returns>
    public static bool TryImportState(ReadOnlySpan<byte> state, KeyExportPolicy exportPolicy, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out HashChainWallet? wallet)
    {
        wallet = null;
        if (state.Length != StateSize || BinaryPrimitives.ReadUInt32LittleEndian(state) != StateVersion || BinaryPrimitives.ReadUInt32LittleEndian(state[12..]) != 0 ||
            exportPolicy is not (KeyExportPolicy.None or KeyExportPolicy.AllowExport))
        {
            return false;
        }

        uint length = BinaryPrimitives.ReadUInt32LittleEndian(state[4..]);
        uint spent = BinaryPrimitives.ReadUInt32LittleEndian(state[8..]);
        if (length == 0 || spent > length)
        {
            return false;
        }

        wallet = new HashChainWallet(state[16..], length, spent, exportPolicy);
        return true;
    }

    /// <summary>Hands out the tick that pays <paramref name="units"/> more: index <see cref="Spent"/> + units.</summary>
    /// <param name="channelId">The channel (its config's root is <see cref="Root"/>).</param>
    /// <param name="units">Units to pay; not 0.</param>
    /// <param name="tick">The tick, when the chain has that many units left.</param>
    /// <returns>False (nothing handed out) when it does not.</returns>
    /// <exception cref="ObjectDisposedException">The wallet was disposed.</exception>
    public bool TryNextTick(UInt128 channelId, uint units, out Tick tick)
    {
        ArgumentOutOfRangeException.ThrowIfZero(units);
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (units > Length - Spent)
            {
                tick = default;
                return false;
            }

            uint index = Spent + units;
            tick = new Tick(channelId, index, WordAt(index));
            Spent = index;
            return true;
        }
    }

    /// <summary>Hands out the tick that pays <paramref name="units"/> more.</summary>
    /// <param name="channelId">The channel.</param>
    /// <param name="units">Units to pay; not 0.</param>
    /// <returns>The tick.</returns>
    /// <exception cref="InvalidOperationException">The chain has fewer units left.</exception>
    public Tick NextTick(UInt128 channelId, uint units = 1) =>
        TryNextTick(channelId, units, out Tick tick) ? tick : throw new InvalidOperationException($"The chain has {Remaining} units left, not {units}.");

    /// <summary>The wallet's state, seed included; refused unless the wallet allows export.</summary>
    /// <returns>48 bytes for <see cref="TryImportState"/>.</returns>
    /// <exception cref="InvalidOperationException">The wallet was created without <see cref="KeyExportPolicy.AllowExport"/>.</exception>
    public byte[] ExportState()
    {
        if (_exportPolicy != KeyExportPolicy.AllowExport)
        {
            throw new InvalidOperationException("The chain's seed is secret: create the wallet with KeyExportPolicy.AllowExport to export its state.");
        }

        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            byte[] state = new byte[StateSize];
            BinaryPrimitives.WriteUInt32LittleEndian(state, StateVersion);
            BinaryPrimitives.WriteUInt32LittleEndian(state.AsSpan(4), Length);
            BinaryPrimitives.WriteUInt32LittleEndian(state.AsSpan(8), Spent);
            _seed.CopyTo(state.AsSpan(16));
            return state;
        }
    }

    /// <summary>Wipes the seed and every stored word.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            CryptographicOperations.ZeroMemory(_seed);
            CryptographicOperations.ZeroMemory(_checkpoints);
            CryptographicOperations.ZeroMemory(_segment);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"HashChainWallet({Spent} of {Length} units paid)";

    /// <summary>The word at <paramref name="index"/> (1..Length), from the cached segment or its checkpoint. Under the lock.</summary>
    private ReadOnlySpan<byte> WordAt(uint index)
    {
        // The checkpoint at or above the index, and the segment of positions (top - step, top] below it.
        uint m = (Length - index) / _step;
        uint top = Length - (m * _step);
        if (_segmentTop != top)
        {
            Span<byte> word = _segment.AsSpan(0, WordSize);
            _checkpoints.AsSpan((int)m * WordSize, WordSize).CopyTo(word);
            uint words = Math.Min(_step, top);
            for (int j = 1; j < words; j++)
            {
                Blake2b256.Hash(_segment.AsSpan((j - 1) * WordSize, WordSize), _segment.AsSpan(j * WordSize, WordSize));
            }

            _segmentTop = top;
        }

        return _segment.AsSpan((int)(top - index) * WordSize, WordSize);
    }
}
