namespace Micropay.Core.Tests.Soak;

/// <summary>
/// The managed heap (after a full collection) around the soak run: <see cref="Before"/> the run's engine opened,
/// <see cref="Disposed"/> after it was disposed, <see cref="Reopened"/> with a fresh engine open on the run's directory,
/// then <see cref="BeforeEmpty"/> after that one was disposed and <see cref="EmptyOpen"/> with an engine open on an
/// empty directory. The data's heap is <c>(Reopened - Disposed) - (EmptyOpen - BeforeEmpty)</c>.
/// </summary>
internal readonly record struct SoakHeap(long Before, long Disposed, long Reopened, long BeforeEmpty, long EmptyOpen)
{
    /// <summary>An engine's own heap with no data: its ring, buffers and pools.</summary>
    public long EngineFixed => EmptyOpen - BeforeEmpty;

    /// <summary>The heap a fresh engine needs for the run's data.</summary>
    public long Data => Math.Max(0, Reopened - Disposed - EngineFixed);
}
