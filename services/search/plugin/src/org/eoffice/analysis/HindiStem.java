package org.eoffice.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.hi.HindiStemFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Lucene's light Hindi stemmer (नस्तियों and नस्ती share a stem); use after eoffice_hindi_normalization. */
@NamedComponent("eoffice_hindi_stem")
public class HindiStem implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream input) {
        return new HindiStemFilter(input);
    }
}
