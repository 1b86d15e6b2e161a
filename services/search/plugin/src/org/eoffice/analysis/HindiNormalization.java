package org.eoffice.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.hi.HindiNormalizationFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Lucene's HindiNormalizationFilter: nukta dropped (ज़ = ज), chandrabindu as anusvara, zero-width joiners removed. */
@NamedComponent("eoffice_hindi_normalization")
public class HindiNormalization implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream input) {
        return new HindiNormalizationFilter(input);
    }

    @Override
    public TokenStream normalize(TokenStream input) {
        return create(input);
    }
}
