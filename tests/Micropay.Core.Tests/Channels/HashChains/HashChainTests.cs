using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Micropay.Core.Channels;
using Micropay.Core.Crypto;

namespace Micropay.Core.Tests.Channels.HashChains;

/// <summary>BLAKE2b-256, the PayWord chain, ticks, the payer's chain wallet and the payee's tick verifier.</summary>
public sealed class HashChainTests
{
    // The chain of 16 from a seed of 32 bytes 0x42, computed independently (Python's hashlib.blake2b, digest_size=32):
    // root = H^16(seed), w_1 = H^15(seed), w_5 = H^11(seed).
    private const string GoldenRoot = "2a2e115eb23dd360c5e3e518fc9a2af237fc0c35751779d27e82a4284822f5c4";
    private const string GoldenW1 = "77ddf4212a000fd061280e70c8183bc05481bb35b2479e22df1f5b6ee1a03941";
    private const string GoldenW5 = "0f7bf74f072c5ea059a57ff8bbd983c281899e6fe866c52f015883bf7f7b478e";
    private static readonly byte[] GoldenSeed = Enumerable.Repeat((byte)0x42, 32).ToArray();
    private static readonly UInt128 Channel = 0xC0FFEE;

    [Theory]
    [InlineData("", "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")]
    [InlineData("abc", "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319")]
    public void Blake2b256_KnownInputs_GiveTheReferenceDigests(string input, string digest)
    {
        byte[] output = new byte[32];
        Blake2b256.Hash(System.Text.Encoding.ASCII.GetBytes(input), output);
        Assert.Equal(digest, Convert.ToHexStringLower(output));
    }

    [Fact]
    public void Blake2b256Iterate_KTimes_EqualsKSingleHashes()
    {
        byte[] step = (byte[])GoldenSeed.Clone();
        for (int i = 0; i < 7; i++)
        {
            Blake2b256.Hash(step, step);
        }

        byte[] iterated = new byte[32];
        Blake2b256.Iterate(GoldenSeed, 7, iterated);
        Assert.Equal(step, iterated);
    }

    [Fact]
    public void Chain_GoldenSeed_HasTheFrozenRootAndWords()
    {
        byte[] root = new byte[32];
        HashChain.ComputeRoot(GoldenSeed, 16, root);
        Assert.Equal(GoldenRoot, Convert.ToHexStringLower(root));

        using HashChainWallet wallet = HashChainWallet.FromSeed(GoldenSeed, 16);
        Assert.Equal(GoldenRoot, Convert.ToHexStringLower(wallet.Root));
        Assert.Equal(GoldenW1, Word(wallet.NextTick(Channel)));
        Assert.Equal(GoldenW5, Word(wallet.NextTick(Channel, 4)));
        Assert.Equal(5U, wallet.Spent);
        Assert.True(HashChain.VerifyAgainstRoot(Convert.FromHexString(GoldenW5), 5, root));
        Assert.True(HashChain.Verify(Convert.FromHexString(GoldenW5), 5, Convert.FromHexString(GoldenW1), 1));
        Assert.False(HashChain.Verify(Convert.FromHexString(GoldenW5), 4, Convert.FromHexString(GoldenW1), 1));
        Assert.False(HashChain.Verify(Convert.FromHexString(GoldenW1), 1, Convert.FromHexString(GoldenW1), 1));
    }

    [Theory]
    [InlineData(1U)]
    [InlineData(2U)]
    [InlineData(99U)]
    [InlineData(100U)]
    [InlineData(1_000U)]
    public void Wallet_EveryTickOfTheChain_VerifiesAgainstTheRootAndThePreviousTick(uint length)
    {
        using HashChainWallet wallet = HashChainWallet.Create(length);
        byte[] root = wallet.Root.ToArray();
        byte[] previous = root;
        for (uint i = 1; i <= length; i++)
        {
            Tick tick = wallet.NextTick(Channel);
            Assert.Equal(i, tick.Index);
            byte[] word = new byte[32];
            tick.CopyWordTo(word);
            Assert.True(HashChain.Verify(word, i, previous, i - 1), $"tick {i} against tick {i - 1}");
            if (i % 97 == 0 || i == length)
            {
                Assert.True(HashChain.VerifyAgainstRoot(word, i, root), $"tick {i} against the root");
            }

            previous = word;
        }

        Assert.False(wallet.TryNextTick(Channel, 1, out _));
        Assert.Throws<InvalidOperationException>(() => wallet.NextTick(Channel));
    }

    [Fact]
    public void Wallet_AMillionUnits_StoresAboutTwoSquareRootsOfWords()
    {
        using HashChainWallet wallet = HashChainWallet.Create(1_000_000);
        Assert.True(wallet.StoredWords <= 2 * 1_000, $"{wallet.StoredWords} words stored");
        Tick big = wallet.NextTick(Channel, 654_321);
        byte[] word = new byte[32];
        big.CopyWordTo(word);
        Assert.True(HashChain.VerifyAgainstRoot(word, 654_321, wallet.Root));
    }

    [Fact]
    public void Wallet_RestoredFromItsState_ContinuesAtTheNextIndexAndNeverRepeatsOne()
    {
        using HashChainWallet wallet = HashChainWallet.FromSeed(GoldenSeed, 16, exportPolicy: KeyExportPolicy.AllowExport);
        wallet.NextTick(Channel, 3);
        byte[] state = wallet.ExportState();

        Assert.True(HashChainWallet.TryImportState(state, KeyExportPolicy.None, out HashChainWallet? restored));
        using (restored)
        {
            Assert.Equal(3U, restored.Spent);
            Assert.Equal(GoldenW5, Word(restored.NextTick(Channel, 2)));
            Assert.Throws<InvalidOperationException>(() => restored.ExportState());
        }

        state[13] = 1;
        Assert.False(HashChainWallet.TryImportState(state, KeyExportPolicy.None, out _));
        Assert.False(HashChainWallet.TryImportState(state.AsSpan(1), KeyExportPolicy.None, out _));
    }

    [Fact]
    public void Wallet_ExportWithoutPermissionAndToString_NeverShowTheSeed()
    {
        using HashChainWallet wallet = HashChainWallet.FromSeed(GoldenSeed, 16);
        Assert.Throws<InvalidOperationException>(() => wallet.ExportState());
        Assert.DoesNotContain("4242", wallet.ToString(), StringComparison.Ordinal);
        wallet.Dispose();
        Assert.Throws<ObjectDisposedException>(() => wallet.NextTick(Channel));
    }

    [Fact]
    public async Task Wallet_EightThreads_HandOutDistinctIncreasingIndexes()
    {
        using HashChainWallet wallet = HashChainWallet.Create(10_000);
        var indexes = new System.Collections.Concurrent.ConcurrentBag<uint>();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 1_000; i++)
            {
                indexes.Add(wallet.NextTick(Channel).Index);
            }
        })));

        Assert.Equal(Enumerable.Range(1, 8_000).Select(i => (uint)i), indexes.Order());
    }

    [Fact]
    public void Verifier_RefusesReplaysLowerAndForeignTicksAndTicksPastTheChainOrDeposit()
    {
        using HashChainWallet wallet = HashChainWallet.FromSeed(GoldenSeed, 16);
        using HashChainWallet stranger = HashChainWallet.Create(16);
        using SigningKey payer = SigningKey.Generate();
        ChannelConfig config = ChannelConfig.CreateHashChain(7, 1, 2, 1, payer.VerificationKey, ulong.MaxValue - 1, 1, 0, wallet.Root, unitAmount: 10, chainLength: 16);
        TickVerifier verifier = TickVerifier.Create(config, deposit: 120);

        Tick two = wallet.NextTick(config.Id, 2);
        Assert.Equal(TickVerifyResult.Accepted, verifier.Accept(two));
        Assert.Equal(TickVerifyResult.IndexNotIncreasing, verifier.Accept(two));
        Assert.Equal(TickVerifyResult.BadWord, verifier.Accept(stranger.NextTick(config.Id, 3)));
        Assert.Equal(TickVerifyResult.WrongChannel, verifier.Accept(wallet.NextTick(config.Id + 1, 1)));
        Assert.Equal(TickVerifyResult.Accepted, verifier.Accept(wallet.NextTick(config.Id, 9)));
        Assert.Equal(TickVerifyResult.ExceedsDeposit, verifier.Accept(wallet.NextTick(config.Id, 1)));
        Assert.Equal(TickVerifyResult.IndexBeyondChain, verifier.Accept(new Tick(config.Id, 17, new byte[32])));
        Assert.Equal(12U, verifier.LastIndex);
        Assert.Equal((UInt128)120, verifier.AcceptedAmount);

        TickVerifier restored = TickVerifier.Create(config, deposit: 120);
        restored.Import(verifier.ExportState());
        Assert.True(restored.TryGetBestTick(out Tick best));
        Assert.Equal(12U, best.Index);
    }

    [Fact]
    public void Tick_EverySingleBitFlip_IsRefusedByTryParseOrByTheVerifier()
    {
        using HashChainWallet wallet = HashChainWallet.FromSeed(GoldenSeed, 16);
        using SigningKey payer = SigningKey.Generate();
        ChannelConfig config = ChannelConfig.CreateHashChain(7, 1, 2, 1, payer.VerificationKey, ulong.MaxValue - 1, 1, 0, wallet.Root, unitAmount: 1, chainLength: 16);
        byte[] good = new byte[Tick.Size];
        wallet.NextTick(config.Id, 5).Encode(good);
        Assert.True(Tick.TryParse(good, out Tick parsed, out _));
        Assert.Equal(TickVerifyResult.Accepted, TickVerifier.Create(config, 100).Accept(parsed));

        // The verifier checks the index against the chain's length before hashing: a flipped high index bit must not
        // make anyone hash billions of times (the engine's edge checks it first too).
        for (int bit = 0; bit < Tick.Size * 8; bit++)
        {
            byte[] flipped = (byte[])good.Clone();
            flipped[bit / 8] ^= (byte)(1 << (bit % 8));
            bool accepted = Tick.TryParse(flipped, out Tick tick, out _) && TickVerifier.Create(config, 100).Accept(tick) == TickVerifyResult.Accepted;
            Assert.False(accepted, $"bit {bit}");
        }
    }

    [Fact]
    public void Tick_EncodeParseAndOneStepVerify_AllocateNothing()
    {
        using HashChainWallet wallet = HashChainWallet.FromSeed(GoldenSeed, 16);
        Tick one = wallet.NextTick(Channel);
        byte[] root = wallet.Root.ToArray();
        byte[] buffer = new byte[Tick.Size];
        byte[] word = new byte[32];
        for (int warm = 0; warm < 100; warm++)
        {
            one.Encode(buffer);
            Tick.TryParse(buffer, out Tick parsed, out _);
            parsed.CopyWordTo(word);
            HashChain.Verify(word, 1, root, 0);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1_000; i++)
        {
            one.Encode(buffer);
            Tick.TryParse(buffer, out Tick parsed, out _);
            parsed.CopyWordTo(word);
            Assert.True(HashChain.Verify(word, 1, root, 0));
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Property(MaxTest = 500)]
    public Property TryParse_AnyBytes_NeverThrowsAndRoundTripsWhatItAccepts() =>
        Prop.ForAll(Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b)).ToArbitrary(), bytes =>
        {
            if (!Tick.TryParse(bytes, out Tick tick, out TickFormatError error))
            {
                return error != TickFormatError.None;
            }

            byte[] again = new byte[Tick.Size];
            tick.Encode(again);
            return again.AsSpan().SequenceEqual(bytes);
        });

    [Property(MaxTest = 200)]
    public Property TryParse_TicksWithValidHeaders_RoundTrip() =>
        Prop.ForAll(Gen.Choose(1, int.MaxValue).ToArbitrary(), Gen.ArrayOf(Gen.Choose(0, 255).Select(b => (byte)b), 32).ToArbitrary(), (index, word) =>
        {
            var tick = new Tick(Channel, (uint)index, word);
            byte[] bytes = new byte[Tick.Size];
            tick.Encode(bytes);
            return Tick.TryParse(bytes, out Tick parsed, out _) && parsed == tick;
        });

    private static string Word(Tick tick)
    {
        byte[] word = new byte[32];
        tick.CopyWordTo(word);
        return Convert.ToHexStringLower(word);
    }
}
