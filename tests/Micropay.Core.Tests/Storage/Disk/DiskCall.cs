namespace Micropay.Core.Tests.Storage.Disk;

/// <summary>One call into a <see cref="SimulatedDisk"/>, as its fault predicate sees it.</summary>
/// <param name="Operation">What the call does.</param>
/// <param name="Path">The file or directory it concerns (a full path).</param>
internal readonly record struct DiskCall(DiskOperation Operation, string Path);
