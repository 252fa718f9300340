using FluentValidation.Results;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Funnel.Leads;

namespace Funnel.Tests.Leads;

/// <summary>A lead magnet's asset: an external URL, a file the app serves, or none; never both.</summary>
public sealed class LeadMagnetAssetTests
{
    private static readonly LeadMagnet Guide = new() { Key = "quick-start-guide", Title = "Quick Start Guide", Kind = LeadMagnetKind.Guide };

    [Fact]
    public void Validate_NoAsset_IsValidAndHasNoAsset()
    {
        LeadMagnet webinar = Guide with { Kind = LeadMagnetKind.Webinar };

        new LeadMagnetValidator().Validate(webinar).IsValid.ShouldBeTrue();
        webinar.HasAsset.ShouldBeFalse();
    }

    [Fact]
    public void Validate_HttpsAssetUrl_IsValidAndHasAnAsset()
    {
        LeadMagnet magnet = Guide with { AssetUrl = new Uri("https://cdn.example.com/quick-start.pdf") };

        new LeadMagnetValidator().Validate(magnet).IsValid.ShouldBeTrue();
        magnet.HasAsset.ShouldBeTrue();
    }

    [Fact]
    public void Validate_AssetFileWithContentType_IsValidAndHasAnAsset()
    {
        LeadMagnet magnet = Guide with { AssetFile = "guides/quick-start.pdf", AssetContentType = "application/pdf" };

        new LeadMagnetValidator().Validate(magnet).IsValid.ShouldBeTrue();
        magnet.HasAsset.ShouldBeTrue();
    }

    [Theory]
    [InlineData("ftp://example.com/guide.pdf")]
    [InlineData("file:///etc/passwd")]
    [InlineData("/guides/quick-start.pdf")]
    public void Validate_AssetUrlNotAbsoluteHttp_NamesAssetUrl(string url)
    {
        ValidationResult result = new LeadMagnetValidator().Validate(Guide with { AssetUrl = new Uri(url, UriKind.RelativeOrAbsolute) });

        ValidationFailure error = result.Errors.ShouldHaveSingleItem();
        error.PropertyName.ShouldBe(nameof(LeadMagnet.AssetUrl));
        error.ErrorMessage.ShouldContain("absolute http or https URL");
    }

    [Fact]
    public void Validate_AssetUrlOverTheLimit_NamesAssetUrl()
    {
        var url = new Uri("https://example.com/" + new string('a', FieldLimits.Url));

        ValidationFailure error = new LeadMagnetValidator().Validate(Guide with { AssetUrl = url }).Errors.ShouldHaveSingleItem();

        error.PropertyName.ShouldBe(nameof(LeadMagnet.AssetUrl));
        error.ErrorMessage.ShouldContain($"at most {FieldLimits.Url} characters");
    }

    [Theory]
    [InlineData("")]
    [InlineData("/etc/passwd")]
    [InlineData("../secrets.txt")]
    [InlineData("guides/../../secrets.txt")]
    [InlineData("guides\\quick-start.pdf")]
    [InlineData("C:/guides/quick-start.pdf")]
    [InlineData("guides//quick-start.pdf")]
    [InlineData("guides/")]
    [InlineData("./quick-start.pdf")]
    [InlineData("quick\nstart.pdf")]
    public void Validate_AssetFileNotASafeRelativePath_NamesAssetFile(string path)
    {
        ValidationFailure error = new LeadMagnetValidator().Validate(Guide with { AssetFile = path }).Errors.ShouldHaveSingleItem();

        error.PropertyName.ShouldBe(nameof(LeadMagnet.AssetFile));
        error.ErrorMessage.ShouldContain("must be a relative path");
    }

    [Fact]
    public void Validate_BothAssetUrlAndAssetFile_SaysSetOneNotBoth()
    {
        LeadMagnet magnet = Guide with { AssetUrl = new Uri("https://example.com/guide.pdf"), AssetFile = "guide.pdf" };

        ValidationFailure error = new LeadMagnetValidator().Validate(magnet).Errors.ShouldHaveSingleItem();

        error.PropertyName.ShouldBe(nameof(LeadMagnet.AssetFile));
        error.ErrorMessage.ShouldBe("Set the asset URL or the asset file, not both.");
    }

    [Theory]
    [InlineData("pdf")]
    [InlineData("application/")]
    [InlineData("/pdf")]
    [InlineData("application/pdf/x")]
    [InlineData("text/plain; charset=utf-8")]
    public void Validate_AssetContentTypeNotAMediaType_NamesAssetContentType(string type)
    {
        LeadMagnet magnet = Guide with { AssetFile = "guide.pdf", AssetContentType = type };

        ValidationFailure error = new LeadMagnetValidator().Validate(magnet).Errors.ShouldHaveSingleItem();

        error.PropertyName.ShouldBe(nameof(LeadMagnet.AssetContentType));
        error.ErrorMessage.ShouldContain("must be a media type");
    }

    [Fact]
    public void Validate_AssetContentTypeWithoutAFile_NamesAssetContentType()
    {
        LeadMagnet magnet = Guide with { AssetUrl = new Uri("https://example.com/guide.pdf"), AssetContentType = "application/pdf" };

        ValidationFailure error = new LeadMagnetValidator().Validate(magnet).Errors.ShouldHaveSingleItem();

        error.PropertyName.ShouldBe(nameof(LeadMagnet.AssetContentType));
        error.ErrorMessage.ShouldContain("applies only to an asset file");
    }

    [Property]
    public Property Validate_AnyPathWithADotDotSegment_IsRejected() => Prop.ForAll(
        Arb.From(from before in Gen.Elements("", "guides/", "a/b/")
                 from after in Gen.Elements("", "/guide.pdf", "/x/y.pdf")
                 select before + ".." + after),
        path => !new LeadMagnetValidator().Validate(Guide with { AssetFile = path }).IsValid);
}
