using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace Funnel.AspNetCore.Tests;

public sealed class LocalPathTests
{
    [Property]
    public bool IsLocalPath_AnyAcceptedPath_ResolvesToTheSameHost(NonNull<string> text)
    {
        string path = "/" + text.Get;
        if (!FunnelEndpoints.IsLocalPath(path))
        {
            return true;
        }

        var site = new Uri("https://shop.example/");
        return !Uri.TryCreate(site, path, out Uri? resolved) || resolved.Host == site.Host;
    }

    [Property]
    public bool IsLocalPath_ProtocolRelativeOrAbsolute_IsRejected(NonNull<string> rest) =>
        !FunnelEndpoints.IsLocalPath("//" + rest.Get)
        && !FunnelEndpoints.IsLocalPath("/\\" + rest.Get)
        && !FunnelEndpoints.IsLocalPath("https://" + rest.Get);

    [Theory]
    [InlineData("/", true)]
    [InlineData("/sales", true)]
    [InlineData("", false)]
    [InlineData("sales", false)]
    [InlineData("//evil.example", false)]
    [InlineData("/\t/evil.example", false)]
    public void IsLocalPath_Examples(string path, bool expected) => FunnelEndpoints.IsLocalPath(path).ShouldBe(expected);
}
