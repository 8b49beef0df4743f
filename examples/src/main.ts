console.log("examples: coming")
