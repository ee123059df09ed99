/**
 * Common lowercase English words of 3–8 letters (a–z only), the arguments of
 * the word tasks. Kept to a few hundred so a tiny byte-level model sees each
 * word many times.
 */
export const WORDS: readonly string[] = `
able angry animal apple arrow artist autumn baby back bake ball banana band bank basket bath beach bear
bed bell belt bench bike bird black blanket blue boat body bone book boot bottle bowl box boy branch brave
bread breeze brick bridge bright brother brown brush bucket butter button cabin cake calm camel camera camp
candle candy cap car card carpet carrot cart castle cat chair chalk cheese cherry chicken child circle city
class clean climb clock cloud clown coat coffee coin cold cook corn cotton couch cow crab crayon cream crowd
cup curtain daisy dance desk dinner doctor dog doll dolphin donkey door dragon dream dress drink drum duck
eagle early earth easy egg elbow engine eye face family farm farmer father feather fence field finger fire
fish flag floor flower fly food foot forest fork fox friend frog fruit funny game garden gate gentle ghost
gift giraffe girl glass glove goat gold grape grass green ground guitar hair hammer hand happy harbor hat
head heart helmet hill honey horse hotel house ice island jacket jam jelly jewel juice jump kettle key
kind king kitchen kite knee knife ladder lake lamp laugh leaf leg lemon letter light lion lip lizard lock
loud lucky lunch machine magnet map market meadow melon milk mirror money monkey moon morning mother
mouse mouth mud music nail needle nest night noodle nose ocean office onion orange oven owl paint palace
pan panda paper parrot park party peach pencil pepper piano picnic picture pig pillow pilot pirate pizza
planet plant plate pocket pond potato pretty puppy purple queen quick quiet rabbit rain rainbow read
ribbon ring river road robot rock rocket roof room rope rose sail salad salt sand school sea seed shadow
sheep shell shirt shoe shop silver simple sing sister skirt sky sleep slow smile snake snow soap sock sofa
soft song soup spider spoon spring square stamp star station stone storm street sugar summer sun sunny
swim table tail tall teacher tent thunder ticket tiger toast tomato tooth towel tower town toy tractor
train tree truck tulip turtle umbrella valley violin wagon walk wall warm watch water whale wheel window
winter wizard wolf wood world write yard yellow young zebra
`
  .trim()
  .split(/\s+/);

/** Words of at most five letters, for tasks whose output repeats the word. */
export const SHORT_WORDS: readonly string[] = WORDS.filter((w) => w.length <= 5);

/** Words of at most six letters, for tasks that string several words together. */
export const PHRASE_WORDS: readonly string[] = WORDS.filter((w) => w.length <= 6);

/** `word` with its first letter in upper case ("oink" → "Oink"). */
export function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}
