import t from 'tap';
import { FRAME_SAMPLES } from '../../codecs/pcm.js';
t.equal(FRAME_SAMPLES, 960);
